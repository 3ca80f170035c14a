"""Sign-in through the provider, its callback, the re-authentication callback of a
signature, and the pages that say why a sign-in was refused or gives no role."""

from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.permissions import user_roles
from accounts.sso import stepup
from accounts.sso.backends import SsoBackend, SsoRefused
from accounts.sso.provider import SsoUnavailable, endpoint, sso_enabled

log = logging.getLogger(__name__)
CHECKED_AT = "sso_checked_at"
TOKEN_EXPIRES = "sso_access_token_expires"  # noqa: S105 (a session key)


def sso_failed(request: HttpRequest, reason: str, status: int = 400) -> HttpResponse:
    """The clear page of a refused or impossible sign-in (nothing was changed)."""
    return render(
        request,
        "registration/sso_failed.html",
        {"reason": reason, "provider": settings.OIDC_PROVIDER_NAME},
        status=status,
    )


def _unavailable(exc: Exception) -> str:
    if isinstance(exc, SsoUnavailable):
        return str(exc)
    return f"{settings.OIDC_PROVIDER_NAME} cannot be reached now: try again in a moment."


class SsoAuthenticateView(OIDCAuthenticationRequestView):
    """Send the browser to the provider (``?silent=1``: ``prompt=none``, the renewal)."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except SsoUnavailable as exc:
            return sso_failed(request, str(exc), status=503)
        return super().get(request)

    def get_extra_params(self, request):
        return {"prompt": "none"} if request.GET.get("silent") == "1" else {}


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The code flow's callback: a refusal or an unreachable provider is a clear page."""

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except SsoRefused as exc:
            return sso_failed(request, str(exc))
        except SuspiciousOperation:
            return sso_failed(
                request, "This sign-in was already used or was not started here: start again."
            )
        except (SsoUnavailable, requests.RequestException) as exc:
            log.warning("single sign-on callback: %s", exc)
            return sso_failed(request, _unavailable(exc), status=503)

    def login_failure(self):
        refusal = getattr(self.request, "sso_refusal", None)
        if refusal:
            return sso_failed(self.request, refusal)
        error = self.request.GET.get("error")
        if error:
            detail = self.request.GET.get("error_description") or error
            return sso_failed(self.request, f"{settings.OIDC_PROVIDER_NAME} refused: {detail}.")
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            return sso_failed(
                self.request,
                "This account is locked here. A governance lead can unlock it.",
                status=403,
            )
        return sso_failed(self.request, "The sign-in could not be completed: start again.")

    def login_success(self):
        response = super().login_success()
        session = self.request.session
        session[CHECKED_AT] = time.time()
        expires_in = getattr(self.user, "sso_access_token_expires_in", None)
        if expires_in:
            session[TOKEN_EXPIRES] = time.time() + int(expires_in)
        if not user_roles(self.user):
            return HttpResponseRedirect(reverse("sso-no-role"))
        return response


@login_required
def sso_no_role(request: HttpRequest) -> HttpResponse:
    """Signed in through the provider, but none of the person's groups gives a role."""
    return render(
        request,
        "registration/sso_no_role.html",
        {"provider": settings.OIDC_PROVIDER_NAME, "claim": settings.OIDC_GROUPS_CLAIM},
        status=200 if user_roles(request.user) else 403,
    )


@login_required
def stepup_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer to a signature's re-authentication: the state is taken
    (good once), the code exchanged, the ID token checked with the nonce derived from
    that pending signature, then the signature's own completer decides."""
    if not sso_enabled():
        raise Http404("Single sign-on is not configured.")
    entry = stepup.stepup_take(request, request.GET.get("state", ""))
    if entry is None:
        return sso_failed(
            request,
            "This re-authentication was already used, has expired or was not started by "
            "you here: nothing was signed. Open the signing dialog again.",
        )
    if request.GET.get("error") or not request.GET.get("code"):
        detail = request.GET.get("error_description") or request.GET.get("error") or "no code"
        return sso_failed(request, f"Re-authentication refused ({detail}): nothing was signed.")
    backend = SsoBackend()
    backend.request = request
    try:
        tokens = backend.get_token(
            {
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "client_secret": settings.OIDC_RP_CLIENT_SECRET,
                "grant_type": "authorization_code",
                "code": request.GET["code"],
                "redirect_uri": request.build_absolute_uri(reverse("sso-stepup-callback")),
                "code_verifier": entry["verifier"],
            }
        )
        nonce = stepup.expected_nonce(
            state=request.GET["state"], digest=entry["digest"], user_id=request.user.pk
        )
        claims = backend.verify_token(tokens.get("id_token", ""), nonce=nonce)
    except requests.HTTPError as exc:
        log.warning("re-authentication code refused: %s", exc)
        return sso_failed(request, "The provider refused this code: nothing was signed.")
    except SsoRefused as exc:
        return sso_failed(request, f"{exc} Nothing was signed.")
    except SuspiciousOperation:
        return sso_failed(
            request, "The provider's answer is not for this signature: nothing was signed."
        )
    except (SsoUnavailable, requests.RequestException) as exc:
        return sso_failed(request, _unavailable(exc), status=503)
    proof = stepup.StepUpProof(
        user_id=request.user.pk,
        issuer=claims.get("iss", ""),
        subject=claims.get("sub", ""),
        auth_time=claims.get("auth_time"),
        purpose=entry["purpose"],
        digest=entry["digest"],
    )
    completer = stepup.completer_for(entry["purpose"].get("kind", ""))
    if completer is None:
        return sso_failed(request, "Nothing here signs this kind of record.")
    return completer(request, proof)
