"""The code flow's authentication backend and the local password backend."""

from __future__ import annotations

import logging

import jwt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.models import SsoIdentity
from accounts.roles import Role
from accounts.sso.hooks import audit_scope
from accounts.sso.provider import endpoint, sso_enabled

log = logging.getLogger(__name__)


class SsoRefused(SuspiciousOperation):
    """A sign-in the product refuses, with the reason shown to the person."""


class LocalPasswordBackend(ModelBackend):
    """Username and password, as Django's, unless ``LOCAL_LOGIN_ENABLED`` is false; an
    account made by single sign-on never signs in with a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and SsoIdentity.objects.filter(user=user).exists():
            return None
        return user


def _endpoint_property(name: str) -> property:
    # Resolved when used, not when the backend is built (Django builds one per request
    # to load the session's user): a provider that is down refuses sign-ins only.
    return property(lambda self: endpoint(name), lambda self, value: None)


def roles_from_claims(claims: dict) -> set[str]:
    """The product's roles the groups claim maps to (``OIDC_ROLE_MAP``)."""
    values = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    mapping = settings.OIDC_ROLE_MAP
    return {mapping[v] for v in values if v in mapping and mapping[v] in Role.values}


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the product's rules: the ID token must come
    from the configured issuer, for this client, unexpired (the library checks the
    signature and nonce only); the person is found by issuer + subject; roles follow
    the groups claim at every sign-in (added and removed), audited."""

    OIDC_OP_TOKEN_ENDPOINT = _endpoint_property("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _endpoint_property("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _endpoint_property("OIDC_OP_JWKS_ENDPOINT")

    def __init__(self, *args, **kwargs):
        # The library's constructor would resolve the endpoints now; they are resolved
        # when used instead (the properties above).
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        if not sso_enabled() or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SsoRefused("The ID token is signed with another algorithm.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=30,
            )
        except jwt.InvalidAudienceError as exc:
            raise SsoRefused("The ID token was issued for another application.") from exc
        except jwt.InvalidIssuerError as exc:
            raise SsoRefused("The ID token comes from another provider.") from exc
        except jwt.ExpiredSignatureError as exc:
            raise SsoRefused("The ID token has expired: sign in again.") from exc
        except jwt.PyJWTError as exc:
            raise SsoRefused("The ID token could not be verified.") from exc

    def get_token(self, payload):
        tokens = super().get_token(payload)
        self.expires_in = tokens.get("expires_in")
        return tokens

    def get_or_create_user(self, access_token, id_token, payload):
        self.id_claims = payload
        try:
            user = super().get_or_create_user(access_token, id_token, payload)
        except SsoRefused as exc:
            # The library logs it and returns None: the callback shows this reason.
            self.request.sso_refusal = str(exc)
            raise
        if user is not None:  # the callback notes when the access token expires
            user.sso_access_token_expires_in = getattr(self, "expires_in", None)
        return user

    def verify_claims(self, claims):
        if claims.get("sub") != self.id_claims.get("sub"):
            raise SsoRefused("The provider answered for another person.")
        if settings.OIDC_GROUPS_CLAIM not in claims:
            raise SsoRefused(
                f"The provider sent no '{settings.OIDC_GROUPS_CLAIM}' claim, which decides "
                "your roles here: ask its administrator to release it to this application."
            )
        return True

    def filter_users_by_claims(self, claims):
        return User.objects.filter(
            sso_identity__issuer=settings.OIDC_ISSUER, sso_identity__subject=claims["sub"]
        )

    def _username(self, claims: dict) -> str:
        base = (claims.get("preferred_username") or claims.get("email") or "").strip()[:100]
        base = base or f"sso-{claims['sub'][:40]}"
        if not User.objects.filter(username=base).exists():
            return base
        return f"{base[:100]}.{claims['sub'][:40]}"  # never an existing local account

    @transaction.atomic
    def create_user(self, claims):
        user = User(
            username=self._username(claims),
            email=claims.get("email", "")[:254],
            first_name=(claims.get("given_name") or claims.get("name") or "")[:150],
            last_name=(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        with audit_scope(actor=None, reason=f"Created at first sign-in through {_name()}"):
            user.full_clean()
            user.save()
            SsoIdentity.objects.create(
                user=user, issuer=settings.OIDC_ISSUER, subject=claims["sub"]
            )
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user, claims):
        if not user.is_active:
            return user  # locked here: the callback refuses it
        roles_sync(user=user, roles=roles_from_claims(claims))
        return user


def _name() -> str:
    return settings.OIDC_PROVIDER_NAME


def roles_sync(*, user: User, roles: set[str]) -> None:
    """Make ``user``'s product roles exactly ``roles`` (other groups untouched); the
    change of groups is captured by the audit trail, under this reason."""
    current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    if current == roles:
        return
    reason = (
        f"Roles from the '{settings.OIDC_GROUPS_CLAIM}' claim of {_name()} at sign-in: "
        f"{', '.join(sorted(roles)) or 'none'}"
    )
    with audit_scope(actor=user, reason=reason):
        keep = [g for g in user.groups.all() if g.name not in Role.values]
        wanted = [Group.objects.get_or_create(name=code)[0] for code in sorted(roles)]
        user.groups.set(keep + wanted)
    log.info("roles of %s from single sign-on: %s", user.username, sorted(roles))
