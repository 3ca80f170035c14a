"""Where the OpenID provider's endpoints are: a setting given one by one, else the
provider's discovery document (fetched on first use and kept for an hour; never at
start-up, so a provider that is down does not stop the product)."""

import time

import requests
from django.conf import settings

ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_TTL_SECONDS = 3600
_cache: dict[str, tuple[float, dict]] = {}


class SsoUnavailable(Exception):
    """The provider could not be reached or answered something unusable."""


def sso_enabled() -> bool:
    return bool(getattr(settings, "SSO_ENABLED", False))


def discovery_url() -> str:
    return settings.OIDC_DISCOVERY_URL or (
        settings.OIDC_ISSUER + "/.well-known/openid-configuration"
    )


def discovery() -> dict:
    """The provider's discovery document (cached). Raises SsoUnavailable."""
    url = discovery_url()
    cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoUnavailable(f"The sign-in provider cannot be reached ({url}).") from exc
    if document.get("issuer", "").rstrip("/") != settings.OIDC_ISSUER:
        raise SsoUnavailable("The provider's discovery document names another issuer.")
    _cache[url] = (time.monotonic(), document)
    return document


def endpoint(name: str) -> str:
    """The endpoint setting ``name`` (``OIDC_OP_..._ENDPOINT``). Raises SsoUnavailable."""
    explicit = getattr(settings, name, "")
    if explicit:
        return explicit
    value = discovery().get(ENDPOINTS[name], "")
    if not value:
        raise SsoUnavailable(f"The provider's discovery document has no {ENDPOINTS[name]}.")
    return value


def forget_discovery() -> None:
    """Drop the cached document (a test's provider moved; the issuer was reconfigured)."""
    _cache.clear()
