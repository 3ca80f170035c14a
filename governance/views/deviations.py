"""The Accountable of model acceptance judges an ethics deviation (issue 12, item 5):
the page that shows the deviation and takes the reason, the expiry and the password
typed again. Refusals (anyone else, a prohibited harm) are the service's."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.sso.signing import signing_data, signing_form
from accounts.web import add_service_errors, get_or_404, role_required
from governance.selectors.ethics import ethics_deviation_get
from governance.services.ethics_deviations import ACCEPTANCE_MAX_DAYS, ethics_deviation_accept


class AcceptForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the deviation is acceptable for this use case, and what limits it.",
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"After this day it blocks again (at most {ACCEPTANCE_MAX_DAYS} days ahead).",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
        help_text="Your password, typed now: the acceptance is a signed act.",
    )


@role_required
def ethics_deviation_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = get_or_404(ethics_deviation_get, user=request.user, pk=pk)
    initial = {"expires_on": timezone.localdate() + timedelta(days=180)}
    form = signing_form(request, AcceptForm(request.POST or None, initial=initial))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ethics_deviation_accept(
                    deviation=deviation, by=request.user, **signing_data(request, form)
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Deviation accepted.")
                url = reverse("dashboard:use-case-detail", kwargs={"pk": deviation.use_case_id})
                return redirect(f"{url}#ethics-deviations")
        status = 400
    return render(
        request,
        "governance/ethics_deviation_accept.html",
        {"deviation": deviation, "use_case": deviation.use_case, "form": form},
        status=status,
    )
