"""A session signed in through the provider follows the account there.

At most every ``OIDC_ACCOUNT_CHECK_SECONDS`` the session's access token is shown to the
provider's userinfo endpoint: refused while it should still be valid, the account is
no longer known there (deactivated, deleted), so it is locked here (``is_active``
false, its API tokens revoked, both audited) and the session ends. When the ID token
is older than ``OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS`` (or the access token expired) a
page request is sent through a silent sign-in (``prompt=none``), which a deactivated
account cannot pass. A provider that cannot be reached locks nobody: the check is made
again at the next request. Placed after ``IdleSessionMiddleware``.

It also answers a signing service's ``StepUpRequired`` (``accounts.sso.signing``) with
the trip to the provider, and lets a signing dialog of an SSO signer post to it (the
CSP's ``form-action``).
"""

import logging
import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpResponseRedirect
from django.middleware.csp import get_nonce
from django.urls import reverse
from django.utils.csp import CSP, build_policy

from accounts.services import api_tokens_revoke_for_user
from accounts.sso.hooks import audit_scope
from accounts.sso.provider import SsoUnavailable, endpoint, sso_enabled
from accounts.sso.signing import StepUpRequired, stepup_purpose
from accounts.sso.stepup import csp_allowing_provider, stepup_start
from accounts.sso.views import CHECKED_AT, TOKEN_EXPIRES, sso_failed

log = logging.getLogger(__name__)
EXEMPT_PREFIXES = ("/oidc/", "/static/", "/accounts/logout/", "/health")


def provider_knows(access_token: str) -> bool | None:
    """True when userinfo accepts the token, False when it refuses it (401/403), None
    when the provider cannot answer."""
    try:
        response = requests.get(
            endpoint("OIDC_OP_USER_ENDPOINT"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.OIDC_TIMEOUT,
        )
    except (requests.RequestException, SsoUnavailable) as exc:
        log.warning("account check: provider unreachable: %s", exc)
        return None
    if response.status_code in (401, 403):
        return False
    return True if response.ok else None


@transaction.atomic
def account_lock(*, user: User, reason: str) -> None:
    """Lock an account the provider no longer knows: inactive, API tokens revoked."""
    with audit_scope(actor=None, reason=reason):
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        api_tokens_revoke_for_user(user=user, reason=reason)


class SsoSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if (
            sso_enabled()
            and session is not None
            and request.user.is_authenticated
            and "oidc_access_token" in session
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            answer = self._check(request, session)
            if answer is not None:
                return answer
        response = self.get_response(request)
        if getattr(request, "sso_signing_page", False) and not response.has_header("Location"):
            policy = build_policy(csp_allowing_provider(), get_nonce(request))
            response.headers[str(CSP.HEADER_ENFORCE)] = policy
        return response

    def process_exception(self, request, exception):
        """A signing service needs the provider's re-authentication: go there."""
        if not isinstance(exception, StepUpRequired):
            return None
        try:
            return stepup_start(request, purpose=stepup_purpose(request, exception))
        except SsoUnavailable as exc:
            return sso_failed(request, f"{exc} Nothing was signed.", status=503)

    def _check(self, request, session):
        now = time.time()
        token_live = now < session.get(TOKEN_EXPIRES, session.get("oidc_id_token_expiration", 0))
        due = now - session.get(CHECKED_AT, 0) >= settings.OIDC_ACCOUNT_CHECK_SECONDS
        if token_live and due:
            known = provider_knows(session["oidc_access_token"])
            if known is False:
                reason = (
                    f"{settings.OIDC_PROVIDER_NAME} no longer knows this account "
                    "(deactivated or removed there)"
                )
                account_lock(user=request.user, reason=reason)
                logout(request)
                return sso_failed(
                    request,
                    f"{reason}: it is locked here and its API tokens are revoked.",
                    status=403,
                )
            if known:
                session[CHECKED_AT] = now
        renew = not token_live or now >= session.get("oidc_id_token_expiration", 0)
        if renew and request.method == "GET" and not request.path.startswith("/api/"):
            query = urlencode({"next": request.get_full_path(), "silent": "1"})
            return HttpResponseRedirect(f"{reverse('oidc_authentication_init')}?{query}")
        return None
