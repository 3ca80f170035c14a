"""A version's change declaration (issue 12): the requester declares that the version
changes nothing material from an earlier one of the same model; the second line signs
the confirmation (password typed again). Linked from the version's sign-off page.

Everyone with a governance role reads; the forms are shown only to who may use them,
and the services check again: a refusal answers 403 (who) or 400 (what) with the
reason and writes nothing but its audit event.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.sso.signing import signing_credential, signing_form
from accounts.web import add_service_errors, get_or_404, refused, role_required
from governance.models import ChangeDeclaration
from governance.services.versions import change_confirm, change_confirm_refusal, change_declare
from inventory.models import ModelVersion
from inventory.permissions import can_write_for_team
from inventory.selectors import model_version_list


class DeclareForm(forms.Form):
    previous = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), label="Earlier version")
    same_training_data = forms.BooleanField(required=False, label="Same training data")
    same_features = forms.BooleanField(required=False, label="Same features")
    note = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="What changed"
    )

    def __init__(self, *args, version: ModelVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["previous"].queryset = ModelVersion.objects.filter(
            model_id=version.model_id, registered_at__lt=version.registered_at
        ).order_by("-registered_at")


class ConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password (electronic signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _version(request, pk: int) -> ModelVersion:
    return get_or_404(
        lambda pk: (
            model_version_list(user=request.user).select_related("model__use_case__team").get(pk=pk)
        ),
        pk=pk,
    )


def _declaration(version: ModelVersion) -> ChangeDeclaration | None:
    return (
        ChangeDeclaration.objects.filter(model_version=version)
        .select_related("previous", "declared_by", "confirmation__confirmed_by")
        .first()
    )


def _page(request, version, *, declare_form=None, confirm_form=None, status=200, refusal=None):
    declaration = _declaration(version)
    user = request.user
    can_declare = declaration is None and can_write_for_team(user, version.model.use_case.team)
    why_not = change_confirm_refusal(declaration=declaration, by=user) if declaration else None
    response = render(
        request,
        "governance/change_declaration.html",
        {
            "version": version,
            "use_case": version.model.use_case,
            "declaration": declaration,
            "confirmation": getattr(declaration, "confirmation", None) if declaration else None,
            "can_declare": can_declare,
            "declare_form": declare_form or DeclareForm(version=version),
            "can_confirm": declaration is not None and why_not is None,
            "confirm_refusal": why_not,
            "confirm_form": signing_form(request, confirm_form or ConfirmForm()),
            "refusal": refusal,
        },
    )
    response.status_code = status
    return response


@role_required
def change_declaration_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _version(request, pk))


@require_POST
@role_required
def change_declaration_declare(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    if not can_write_for_team(request.user, version.model.use_case.team):
        raise PermissionDenied("Only the use case's team or a governance lead can declare this.")
    form = DeclareForm(request.POST, version=version)
    if form.is_valid():
        try:
            change_declare(version=version, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Declared: it counts once the second line confirms it.")
            return redirect("governance:version-change-declaration", pk=version.pk)
    return _page(request, version, declare_form=form, status=400)


@require_POST
@role_required
def change_declaration_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    declaration = _declaration(version)
    if declaration is None:
        return refused(
            request,
            partial(_page, request, version),
            "This version has no change declaration to confirm.",
        )
    form = signing_form(request, ConfirmForm(request.POST))
    if form.is_valid():
        try:
            result = change_confirm(
                declaration=declaration,
                by=request.user,
                password=signing_credential(request, form),
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Confirmed (signed); {result['carried_over']} obligation(s) took the "
                "previous version's evidence.",
            )
            return redirect("governance:version-change-declaration", pk=version.pk)
    return _page(request, version, confirm_form=form, status=400)
