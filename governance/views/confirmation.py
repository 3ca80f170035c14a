"""A risk officer's signed confirmation of a High or Critical classification (issue 12):
the page that shows what is confirmed and takes the password typed again."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.permissions import has_role
from accounts.roles import Role
from accounts.sso.signing import signing_credential, signing_form
from accounts.web import add_service_errors, get_or_404, role_required
from governance.selectors import classification_answers_display, classification_latest
from governance.selectors.classification import (
    classification_blocking,
    classification_confirmation_for,
)
from governance.services import classification_confirm
from inventory.selectors import use_case_get


class ConfirmForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
        help_text="Your password, typed now: the confirmation is a signed act.",
    )
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


@role_required
def classification_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not has_role(request.user, Role.RISK_OFFICER):
        raise PermissionDenied("Only a risk officer can confirm a classification.")
    form = signing_form(request, ConfirmForm(request.POST or None))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                classification_confirm(
                    use_case=use_case,
                    by=request.user,
                    password=signing_credential(request, form),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Classification confirmed.")
                url = reverse("dashboard:use-case-detail", kwargs={"pk": use_case.pk})
                return redirect(f"{url}#classification")
        status = 400
    current = classification_latest(use_case=use_case)
    return render(
        request,
        "governance/classification_confirm.html",
        {
            "use_case": use_case,
            "current": current,
            "answers": classification_answers_display(classification=current) if current else [],
            "confirmation": classification_confirmation_for(use_case=use_case),
            "blocking": classification_blocking(use_case, "prod"),
            "form": form,
        },
        status=status,
    )
