"""Pages of independent validation (issue 12): a version's validations with the form to
record one, a validation (and its draft's edit form), the signing dialog, and the
second line's risk acceptance of a validation finding.

Who may validate is decided by the services; a refusal is a 403 with the reason, shown
before any password is typed; a bad input a 400 with the form's errors; nothing is
written then.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.web import (
    PasswordSignForm,
    add_service_errors,
    get_or_404,
    role_required,
    signing_dialog,
)
from core import promotion_rules as rules
from inventory.models import ModelVersion
from reviews.models import Finding, Validation
from reviews.selectors import findings as findings_sel
from reviews.selectors import validation as sel
from reviews.services import acceptance as acceptance_svc
from reviews.services import validation as svc

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class ValidationForm(forms.Form):
    scope = forms.CharField(widget=TEXTAREA, max_length=8000)
    conceptual_soundness = forms.CharField(widget=TEXTAREA, max_length=8000)
    data = forms.CharField(widget=TEXTAREA, max_length=8000)
    outcomes_analysis = forms.CharField(widget=TEXTAREA, max_length=8000)
    limitations = forms.CharField(widget=TEXTAREA, max_length=8000)
    conclusion = forms.ChoiceField(choices=Validation.Conclusion.choices, widget=forms.RadioSelect)
    findings = forms.CharField(
        required=False,
        widget=TEXTAREA,
        max_length=20000,
        label="Findings raised",
        help_text="One per line, as 'title' or 'title | detail'. Opened when you sign; "
        "approve with conditions names its conditions here.",
    )

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        lines = [line.strip() for line in data.pop("findings", "").splitlines() if line.strip()]
        data["findings_raised"] = [
            {"title": title.strip(), "detail": detail.strip()}
            for title, _, detail in (line.partition("|") for line in lines)
        ]
        return data

    @classmethod
    def initial_for(cls, validation: Validation) -> dict:
        initial = {name: getattr(validation, name) for name in (*svc.TEXT_FIELDS, "conclusion")}
        initial["findings"] = "\n".join(
            f"{f['title']} | {f['detail']}" if f.get("detail") else f["title"]
            for f in validation.findings_raised
        )
        return initial


class AcceptanceForm(forms.Form):
    reason = forms.CharField(
        max_length=4000,
        widget=TEXTAREA,
        help_text="Why the risk is acceptable until then, and what covers it meanwhile.",
    )
    expires_on = forms.DateField(
        label="Accepted until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"The last day it counts (at most {acceptance_svc.ACCEPTANCE_MAX_DAYS} days "
        "ahead); after it the finding blocks production again.",
    )
    # Not required by the form: the service says why it is needed (and a missing
    # password is not counted as a wrong one).
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password: accepting a finding's risk is a signed act.",
    )


def _version_or_404(pk: int) -> ModelVersion:
    return get_or_404(
        lambda pk: ModelVersion.objects.select_related("model__use_case__team").get(pk=pk), pk=pk
    )


def _validation_or_404(pk: int) -> Validation:
    return get_or_404(sel.validation_get, pk=pk)


def _list_page(request, version, form, *, status=200, refusal=None):
    why_not = sel.validator_refusal(request.user, version)
    return render(
        request,
        "reviews/validations.html",
        {
            "version": version,
            "use_case": version.model.use_case,
            "validations": sel.validation_list(version=version),
            "current": sel.validation_current(version),
            "required": sel.validation_required(version),
            "blocking": {
                env: sel.validation_blocking(version, env) for env in sel.VALIDATED_BEFORE
            },
            "form": None if why_not else form,
            "why_not": refusal or why_not,
        },
        status=status,
    )


@role_required
def validation_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's validations, and the form to record one (validators independent of
    the developing team only; everyone else sees why not)."""
    version = _version_or_404(pk)
    if request.method != "POST":
        return _list_page(request, version, ValidationForm())
    why = sel.validator_refusal(request.user, version)
    if why:
        return _list_page(request, version, None, status=403, refusal=why)
    form = ValidationForm(request.POST)
    if not form.is_valid():
        return _list_page(request, version, form, status=400)
    try:
        validation = svc.validation_record(
            version=version, by=request.user, **form.service_fields()
        )
    except PermissionDenied as exc:
        return _list_page(request, version, None, status=403, refusal=str(exc))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _list_page(request, version, form, status=400)
    messages.success(request, "Validation recorded as a draft: sign it to make it count.")
    return redirect("reviews:validation-detail", pk=validation.pk)


def _detail_page(request, validation, form=None, *, status=200, refusal=None):
    return render(
        request,
        "reviews/validation_detail.html",
        {
            "validation": validation,
            "version": validation.model_version,
            "findings": [
                (
                    f,
                    findings_sel.acceptance_current(f),
                    f.status in (Finding.Status.OPEN, Finding.Status.PLANNED)
                    and findings_sel.finding_accept_refusal(request.user, f) is None,
                )
                for f in validation.findings.select_related(
                    "validation", "model_version__model__use_case__team"
                ).order_by("pk")
            ],
            "form": form,
            "refusal": refusal,
            "may_edit": not validation.is_signed and validation.validator_id == request.user.pk,
            "may_sign": svc.validation_sign_refusal(validation=validation, by=request.user) is None,
        },
        status=status,
    )


@role_required
def validation_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A validation; its validator changes the draft here (POST). A signed validation
    is never changed: 400, nothing written."""
    validation = _validation_or_404(pk)
    if request.method != "POST":
        form = None
        if not validation.is_signed and validation.validator_id == request.user.pk:
            form = ValidationForm(initial=ValidationForm.initial_for(validation))
        return _detail_page(request, validation, form)
    form = ValidationForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, validation, form, status=400)
    try:
        svc.validation_update(validation=validation, by=request.user, **form.service_fields())
    except PermissionDenied as exc:
        return _detail_page(request, validation, None, status=403, refusal=str(exc))
    except ValidationError as exc:
        return _detail_page(request, validation, form, status=400, refusal=" ".join(exc.messages))
    messages.success(request, "Draft saved.")
    return redirect("reviews:validation-detail", pk=validation.pk)


@role_required
def validation_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing dialog: what is signed (its hash), the password typed again. Who may
    not sign is told before any password is typed, and the attempt is recorded."""
    validation = _validation_or_404(pk)
    why = svc.validation_sign_refusal(validation=validation, by=request.user)
    done, form, status, refusal = signing_dialog(
        request,
        PasswordSignForm(request.POST or None),
        why,
        refused=lambda: svc.validation_signing_refused(
            validation=validation, by=request.user, why=why
        ),
        sign=lambda data: svc.validation_sign(
            validation=validation, by=request.user, password=data["password"]
        ),
    )
    if done:
        messages.success(request, "Validation signed: validated.")
        return redirect("reviews:validation-detail", pk=validation.pk)
    manifest = sel.validation_manifest(validation)
    return render(
        request,
        "reviews/validation_sign.html",
        {
            "validation": validation,
            "version": validation.model_version,
            "form": form,
            "refusal": refusal,
            "manifest": manifest,
            "manifest_hash": rules.manifest_hash(manifest),
        },
        status=status,
    )


def _finding_or_404(pk: int) -> Finding:
    return get_or_404(
        lambda pk: Finding.objects.select_related(
            "validation__validator", "model_version__model__use_case__team"
        ).get(pk=pk),
        pk=pk,
    )


@role_required
def finding_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing dialog of a risk acceptance: the finding, the reason, the expiry and
    the password typed again. Who may not accept is told before any password is typed
    (403, the attempt recorded when posted); a bad input or a wrong password is a 400;
    nothing is written then."""
    finding = _finding_or_404(pk)
    why = findings_sel.finding_accept_refusal(request.user, finding)
    done, form, status, refusal = signing_dialog(
        request,
        AcceptanceForm(request.POST or None),
        why,
        refused=lambda: acceptance_svc.finding_accept_refused(
            finding=finding, by=request.user, why=why
        ),
        sign=lambda data: acceptance_svc.finding_accept(finding=finding, by=request.user, **data),
    )
    if done:
        messages.success(request, "Risk accepted until the date given, signed.")
        if finding.validation_id:
            return redirect("reviews:validation-detail", pk=finding.validation_id)
        return redirect("reviews:finding-detail", pk=finding.pk)
    return render(
        request,
        "reviews/finding_accept.html",
        {
            "finding": finding,
            "version": finding.model_version,
            "form": form,
            "refusal": refusal,
            "current": findings_sel.acceptance_current(finding),
        },
        status=status,
    )
