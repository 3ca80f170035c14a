"""The signing dialog of a promotion request for an account that signs in through the
provider (issue 17): no password field; a valid dialog sends the signer to the
provider to sign in again, and the provider's answer comes back to
``accounts.sso.views.stepup_callback``, which calls ``complete_request_sign`` with the
verified proof. A password posted by such an account is refused (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.sso.provider import SsoUnavailable
from accounts.sso.stepup import (
    StepUpProof,
    csp_allowing_provider,
    password_signing_refusal,
    stepup_start,
)
from accounts.sso.views import sso_failed
from reviews.models import PromotionRequest
from reviews.selectors import promotion as sel
from reviews.services import sso_signing as svc
from reviews.services.promotion import request_sign_precheck
from reviews.services.signers import signing_refused


class SsoSignForm(forms.Form):
    meaning = forms.ChoiceField(choices=[], widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Required to reject.",
    )


def _form(data=None) -> SsoSignForm:
    from reviews.views.promotion import MEANING_CHOICES

    form = SsoSignForm(data)
    form.fields["meaning"].choices = MEANING_CHOICES
    return form


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, " ".join(exc.messages))


def request_sign_sso(request: HttpRequest, req: PromotionRequest, page) -> HttpResponse:
    """GET: the dialog without a password; POST: checked, then off to the provider."""
    return _with_csp(_dialog(request, req, page))


def _with_csp(response: HttpResponse) -> HttpResponse:
    """A dialog page may post to a redirect to the provider (its ``form-action``)."""
    if not response.has_header("Location"):
        response._csp_config = csp_allowing_provider()
    return response


def _dialog(request: HttpRequest, req: PromotionRequest, page) -> HttpResponse:
    if request.method != "POST":
        return page(request, req, _form())
    form = _form(request.POST)
    if "password" in request.POST:
        why = password_signing_refusal(request.user)
        signing_refused(
            request=req, by=request.user, meaning=request.POST.get("meaning", ""), why=why
        )
        return page(request, req, form if form.is_valid() else _form(), status=403, refusal=why)
    if not form.is_valid():
        return page(request, req, form, status=400)
    data = form.cleaned_data
    try:
        reason = request_sign_precheck(
            request=req, by=request.user, meaning=data["meaning"], reason=data["reason"]
        )
        purpose = svc.request_sign_purpose(
            request=req, by=request.user, meaning=data["meaning"], reason=reason
        )
        return stepup_start(request, purpose=purpose)
    except ValidationError as exc:
        _add_errors(form, exc)
        return page(request, req, form, status=400)
    except PermissionDenied as exc:
        return page(request, req, form, status=403, refusal=str(exc))
    except SsoUnavailable as exc:
        return sso_failed(request, f"{exc} Nothing was signed.", status=503)


def complete_request_sign(request: HttpRequest, proof: StepUpProof) -> HttpResponse:
    """The provider re-authenticated the signer: sign what the proof's purpose names
    (registered with ``accounts.sso.stepup`` by ``ReviewsConfig.ready``)."""
    from reviews.views.promotion import MEANING_CHOICES, _sign_page

    purpose = proof.purpose
    try:
        req = sel.request_get(pk=int(purpose["request"]), user=request.user)
    except PromotionRequest.DoesNotExist:
        return sso_failed(request, "This request is not there any more: nothing was signed.", 404)
    form = _form({"meaning": purpose["meaning"], "reason": purpose["reason"]})
    form.is_valid()
    try:
        svc.request_sign_reauthenticated(
            request=req,
            by=request.user,
            meaning=purpose["meaning"],
            reason=purpose["reason"],
            proof=proof,
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _with_csp(_sign_page(request, req, form, status=400))
    except PermissionDenied as exc:
        return _with_csp(_sign_page(request, req, form, status=403, refusal=str(exc)))
    messages.success(request, f"Signed: {dict(MEANING_CHOICES)[purpose['meaning']]}.")
    return redirect("reviews:request-detail", pk=req.pk)
