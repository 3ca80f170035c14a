"""Re-authentication at the provider for a signature (21 CFR Part 11 under single
sign-on): the signing dialog sends the signer to the provider with ``prompt=login`` and
``max_age=0``; the state names one pending signature (its kind, object, meaning, slot
and reason, kept in the session) and the nonce is derived from the state and that
signature, so a code or a state cannot be replayed or used for another signature. The
callback checks the ID token (issuer, audience, expiry, signature, nonce) and hands a
``StepUpProof`` to the completer the higher app registered for that kind of signature;
its service accepts the signature only if ``stepup_refusal`` finds nothing: the same
subject as the signed-in account and an ``auth_time`` at most
``OIDC_STEPUP_MAX_AGE_SECONDS`` old."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, get_random_string, salted_hmac
from mozilla_django_oidc.utils import generate_code_challenge

from accounts.models import SsoIdentity
from accounts.sso.provider import SsoUnavailable, endpoint

SESSION_KEY = "sso_stepup"
PENDING_MAX = 10
PENDING_SECONDS = 600
CLOCK_SKEW_SECONDS = 30
_completers: dict[str, Callable[[HttpRequest, StepUpProof], HttpResponse]] = {}


@dataclass(frozen=True)
class StepUpProof:
    """A verified ID token of a re-authentication, for one pending signature."""

    user_id: int
    issuer: str
    subject: str
    auth_time: int | None
    purpose: dict
    digest: str


def register_stepup_completer(
    kind: str, completer: Callable[[HttpRequest, StepUpProof], HttpResponse]
) -> None:
    """``completer(request, proof)`` signs what ``proof.purpose`` names (``kind``)."""
    _completers[kind] = completer


def completer_for(kind: str):
    return _completers.get(kind)


def purpose_digest(purpose: dict) -> str:
    return hashlib.sha256(json.dumps(purpose, sort_keys=True).encode()).hexdigest()


def expected_nonce(*, state: str, digest: str, user_id: int) -> str:
    return salted_hmac("accounts.sso.stepup", f"{state}:{digest}:{user_id}").hexdigest()


def now() -> float:
    """The clock the freshness of ``auth_time`` is judged by."""
    return time.time()


def is_sso_user(user) -> bool:
    return user.is_authenticated and SsoIdentity.objects.filter(user=user).exists()


def password_signing_refusal(user) -> str | None:
    """Why ``user`` may not sign with a password at all: an account that signs in
    through the provider re-authenticates there; with local sign-in switched off, no
    password signs. Asked by every password signature of the product."""
    if is_sso_user(user):
        return (
            f"You sign in through {settings.OIDC_PROVIDER_NAME}: a signature re-authenticates "
            "you there, not with a password. Nothing was signed. Sign on the page: its "
            "signing dialog sends you there to sign in again (the API cannot)."
        )
    if not settings.LOCAL_LOGIN_ENABLED:
        return "Local accounts are switched off: a password cannot sign. Nothing was signed."
    return None


def stepup_start(request: HttpRequest, *, purpose: dict) -> HttpResponse:
    """Send the signed-in SSO user to the provider to sign in again for ``purpose``
    (a JSON-able dict with a ``kind`` registered by a completer). Raises SsoUnavailable."""
    identity = SsoIdentity.objects.get(user=request.user)
    state = get_random_string(32)
    digest = purpose_digest(purpose)
    verifier = get_random_string(64)
    pending = {
        s: e
        for s, e in request.session.get(SESSION_KEY, {}).items()
        if now() - e["added"] < PENDING_SECONDS
    }
    for old in sorted(pending, key=lambda s: pending[s]["added"])[
        : max(0, len(pending) - PENDING_MAX + 1)
    ]:
        del pending[old]
    pending[state] = {
        "purpose": purpose,
        "digest": digest,
        "user_id": request.user.pk,
        "verifier": verifier,
        "added": now(),
    }
    request.session[SESSION_KEY] = pending
    params = {
        "response_type": "code",
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "redirect_uri": request.build_absolute_uri(reverse("sso-stepup-callback")),
        "scope": "openid",
        "state": state,
        "nonce": expected_nonce(state=state, digest=digest, user_id=request.user.pk),
        "prompt": "login",
        "max_age": "0",
        "login_hint": identity.subject,
        "code_challenge": generate_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    return HttpResponseRedirect(f"{endpoint('OIDC_OP_AUTHORIZATION_ENDPOINT')}?{urlencode(params)}")


def csp_allowing_provider() -> dict:
    """The site's CSP with the provider's origin added to ``form-action``: a signing
    dialog's form is answered by a redirect to the provider, which the browser checks
    against the dialog page's ``form-action``."""
    try:
        url = endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")
    except SsoUnavailable:
        url = settings.OIDC_ISSUER
    parts = urlsplit(url)
    config = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    config["form-action"] = [*config.get("form-action", []), f"{parts.scheme}://{parts.netloc}"]
    return config


def stepup_take(request: HttpRequest, state: str) -> dict | None:
    """The pending re-authentication of ``state``, removed from the session (a state
    is good once); None when there is none for this user."""
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.pop(state, None) if state else None
    request.session[SESSION_KEY] = pending
    request.session.save()
    if entry is None or entry["user_id"] != request.user.pk:
        return None
    if now() - entry["added"] >= PENDING_SECONDS:
        return None
    return entry


def stepup_refusal(*, proof: StepUpProof, user, purpose: dict) -> str | None:
    """Why ``proof`` does not re-authenticate ``user`` for ``purpose``; None when it does."""
    if proof.user_id != user.pk:
        return "This re-authentication was started by another account."
    identity = SsoIdentity.objects.filter(user=user).first()
    if identity is None:
        return "Only an account that signs in through the provider re-authenticates there."
    if not (
        constant_time_compare(proof.issuer, identity.issuer)
        and constant_time_compare(proof.subject, identity.subject)
    ):
        return (
            f"The provider signed in '{proof.subject}', not you ('{identity.subject}'): "
            "sign in there as yourself."
        )
    if not constant_time_compare(proof.digest, purpose_digest(purpose)):
        return "This re-authentication was for another signature."
    if not isinstance(proof.auth_time, int):
        return "The provider did not say when you signed in."
    age = now() - proof.auth_time
    limit = settings.OIDC_STEPUP_MAX_AGE_SECONDS
    if age > limit or age < -CLOCK_SKEW_SECONDS:
        return (
            f"Your sign-in at the provider is {int(age)} seconds old; a signature needs one "
            f"made within the last {limit} seconds: sign again."
        )
    return None
