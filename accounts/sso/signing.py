"""Every signature under single sign-on (issue 17), through one mechanism.

A signing service asks for a re-authentication with a *credential*: the password typed
now, ``PROVIDER`` (the signer signs in through the provider and has not yet
re-authenticated there) or a ``StepUpProof`` (they just did). ``credential_refusal``
says why a credential cannot sign; ``provider_reauthentication`` turns ``PROVIDER``
into ``StepUpRequired`` (every check before the re-authentication has passed) and a
proof into a ``Reauthentication``, which the signature records.

The page: ``signing_form`` drops the password field of an SSO signer's dialog, and
``signing_credential`` gives the view the credential to pass. ``StepUpRequired`` is
answered by ``accounts.sso.middleware`` with the trip to the provider; the purpose
keeps what the service signs (``signed``: what and the fields) and the dialog's POST
(without the password). At the callback ``replay_signature`` posts that dialog again
with the proof attached, so the same view and the same service check everything again
(the target may have changed meanwhile) and accept the proof only for exactly the
signature it was made for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve

from accounts.sso.stepup import (
    StepUpProof,
    is_sso_user,
    password_signing_refusal,
    purpose_digest,
    register_stepup_completer,
    stepup_refusal,
)

REPLAY_KIND = "accounts.signature"
PASSWORD_METHOD = "password re-entry"  # noqa: S105 (a method name)
PROVIDER_METHOD = "provider re-authentication"
# The password is never kept; the rest of the dialog is posted again as it came (a
# dialog of no field still posts its CSRF token, so its form is bound again).
NOT_REPLAYED = ("password",)
# The API's signing password fields say what an SSO account does (the API cannot send
# anyone to the provider).
API_PASSWORD_HELP = " ".join(  # noqa: S105 (a help text)
    [
        "Your password, typed now: a signature re-authenticates you. An account that signs",
        "in through single sign-on has no password here: the API answers 403 (nothing",
        "signed) and it signs on the page, whose dialog sends it to the provider to sign in",
        "again.",
    ]
)


class _Provider:
    """The credential of an SSO signer who is still to re-authenticate at the provider."""

    def __repr__(self) -> str:
        return "PROVIDER"


PROVIDER = _Provider()
Credential = str | _Provider | StepUpProof


class StepUpRequired(Exception):  # noqa: N818 (a request to act, not an error)
    """Every check before the re-authentication passed: send the signer to the provider
    for the signature ``signed`` names (raised by a signing service, answered by the
    SSO middleware)."""

    def __init__(self, signed: dict):
        super().__init__("Re-authentication at the provider needed.")
        self.signed = signed


@dataclass(frozen=True)
class Reauthentication:
    """How the signer re-authenticated for a signature, as the record says it."""

    method: str = PASSWORD_METHOD
    issuer: str = ""
    subject: str = ""
    auth_time: int | None = None

    @property
    def by_provider(self) -> bool:
        return self.method == PROVIDER_METHOD

    @property
    def short_method(self) -> str:
        """The framework's records' word for it: "password" or "provider"."""
        return "provider" if self.by_provider else "password"

    def changes(self) -> dict:
        """The audit event's fields of a provider re-authentication."""
        when = datetime.fromtimestamp(self.auth_time or 0, UTC).isoformat()
        return {
            "issuer": [None, self.issuer],
            "subject": [None, self.subject],
            "auth_time": [None, when],
        }


BY_PASSWORD = Reauthentication()


def signed_purpose(what: str, fields: dict | None) -> dict:
    """What a re-authentication signs: the signed act (``what`` names the kind and
    the target) and the service's inputs, as JSON (dates and decimals as text)."""
    return json.loads(json.dumps({"what": what, **(fields or {})}, sort_keys=True, default=str))


def credential_refusal(user, credential: Credential, what: str, fields: dict | None) -> str | None:
    """Why ``credential`` cannot re-authenticate ``user`` for the act ``what`` with
    ``fields``; None when it can (a password is still to be checked by the caller)."""
    if isinstance(credential, StepUpProof):
        why = stepup_refusal(proof=credential, user=user, purpose=credential.purpose)
        signed = credential.purpose.get("signed")
        if why is None and (
            not isinstance(signed, dict)
            or purpose_digest(signed) != purpose_digest(signed_purpose(what, fields))
        ):
            why = "This re-authentication was for another signature."
        return f"Re-authentication: {why}" if why else None
    if credential is PROVIDER:
        if is_sso_user(user):
            return None
        return "Only an account that signs in through the provider re-authenticates there."
    return password_signing_refusal(user)


def provider_reauthentication(
    credential: Credential, what: str, fields: dict | None
) -> Reauthentication | None:
    """After ``credential_refusal`` found nothing: the provider's re-authentication
    (a proof), or None for a password. Raises StepUpRequired for ``PROVIDER``."""
    if credential is PROVIDER:
        raise StepUpRequired(signed_purpose(what, fields))
    if isinstance(credential, StepUpProof):
        return Reauthentication(
            method=PROVIDER_METHOD,
            issuer=credential.issuer,
            subject=credential.subject,
            auth_time=credential.auth_time,
        )
    return None


# --- The page ----------------------------------------------------------------------------------


def reauth_provider(request: HttpRequest) -> str:
    """The provider's name when the signer re-authenticates there (their dialog may
    then post to it: the page's CSP allows it), else ""."""
    if not is_sso_user(request.user):
        return ""
    request.sso_signing_page = True
    return settings.OIDC_PROVIDER_NAME


def signing_form(request: HttpRequest, form: forms.Form) -> forms.Form:
    """An SSO signer's dialog has no password field: signing sends them to the
    provider (``form.reauth_provider`` names it for the template)."""
    if "password" in form.fields and reauth_provider(request):
        del form.fields["password"]
        form.reauth_provider = settings.OIDC_PROVIDER_NAME
    return form


def signing_credential(request: HttpRequest, form: forms.Form | None = None) -> Credential:
    """The credential a dialog's view (``form``, or a dialog without a form class)
    passes to its signing service."""
    proof = getattr(request, "stepup_proof", None)
    if proof is not None:
        return proof
    if form is not None and "password" in form.fields:
        return form.cleaned_data.get("password") or ""
    if "password" in request.POST:  # an SSO signer posting a password: refused
        return request.POST["password"]
    return PROVIDER if is_sso_user(request.user) else ""


def signing_data(request: HttpRequest, form: forms.Form) -> dict:
    """A valid dialog's fields, its ``password`` being the credential to sign with (a
    form that signs nothing, without a password field, gives its fields as they are)."""
    if "password" not in form.fields and not getattr(form, "reauth_provider", ""):
        return dict(form.cleaned_data)
    return {**form.cleaned_data, "password": signing_credential(request, form)}


def stepup_purpose(request: HttpRequest, exc: StepUpRequired) -> dict:
    """The pending signature: what the service signs, and the dialog to post again."""
    return {
        "kind": REPLAY_KIND,
        "signed": exc.signed,
        "path": request.path,
        "data": {k: request.POST.getlist(k) for k in request.POST if k not in NOT_REPLAYED},
    }


def replay_signature(request: HttpRequest, proof: StepUpProof) -> HttpResponse:
    """The provider re-authenticated the signer: post the dialog again with the proof
    (registered as the completer of ``REPLAY_KIND``)."""
    from accounts.sso.views import sso_failed

    purpose = proof.purpose
    try:
        match = resolve(purpose["path"])
    except (Resolver404, KeyError):
        return sso_failed(request, "This signing dialog is not there any more: nothing was signed.")
    data = QueryDict(mutable=True)
    for key, values in purpose.get("data", {}).items():
        data.setlist(key, values)
    request.method = "POST"
    request.POST = data
    request.path = request.path_info = purpose["path"]
    request.resolver_match = match
    request.stepup_proof = proof
    return match.func(request, *match.args, **match.kwargs)


register_stepup_completer(REPLAY_KIND, replay_signature)
