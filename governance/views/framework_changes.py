"""Pages of four eyes on the framework: the proposals (list and one proposal, with the
sign-to-approve, sign-to-reject and withdraw forms) and the classification rules
(list, propose a new rule or a change).

Everyone with a governance role reads; only governance leads propose and decide,
checked here and again in the services. A refused act answers 403, 409 (decided
meanwhile) or 400 with the reason and writes nothing (a wrong password is recorded).
"""

import json
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import is_governance_lead
from accounts.sso.signing import signing_credential, signing_form
from accounts.web import (
    add_service_errors,
    get_or_404,
    refusal_reason,
    refusal_status,
    refused,
    role_required,
)
from governance.models import RiskRule, RiskRuleCondition
from governance.selectors import risk_rule_list
from governance.selectors.framework_changes import framework_change_get, framework_change_list
from governance.services.framework_changes import (
    framework_change_approve,
    framework_change_reject,
    framework_change_withdraw,
    risk_rule_propose,
)
from governance.services.framework_content import risk_rule_content
from inventory.choices import Criticality, RiskTier

STATUSES = ["pending", "approved", "rejected", "withdrawn", "superseded"]


class SignForm(forms.Form):
    password = forms.CharField(
        label="Your password (electronic signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    reason = forms.CharField(label="Reason", required=False, max_length=1000)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=1000)


def _require_lead(request) -> None:
    if not is_governance_lead(request.user):
        raise PermissionDenied("Only governance leads change the governance framework.")


@role_required
def framework_change_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    status = status if status in STATUSES else ""
    return render(
        request,
        "governance/frameworkchange_list.html",
        {
            "changes": framework_change_list(user=request.user, status=status or None)[:200],
            "status": status,
            "statuses": STATUSES,
        },
    )


def _render_detail(request, change, *, sign_form=None, status=200, refusal=None) -> HttpResponse:
    user = request.user
    lead = is_governance_lead(user)
    pending = change.is_pending
    response = render(
        request,
        "governance/frameworkchange_detail.html",
        {
            "change": change,
            "content_json": json.dumps(change.content, indent=2, sort_keys=True),
            "can_decide": pending and lead and change.proposed_by_id != user.pk,
            "is_proposer": pending and change.proposed_by_id == user.pk,
            "sign_form": signing_form(request, sign_form or SignForm()),
            "refusal": refusal,
        },
    )
    response.status_code = status
    return response


@role_required
def framework_change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_or_404(framework_change_get, user=request.user, pk=pk)
    return _render_detail(request, change)


def _decide(request, pk: int, service, done: str) -> HttpResponse:
    _require_lead(request)
    change = get_or_404(framework_change_get, user=request.user, pk=pk)
    form = signing_form(request, SignForm(request.POST))
    status, refusal = 400, None
    if form.is_valid():
        try:
            service(
                change=change,
                by=request.user,
                password=signing_credential(request, form),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            status, refusal = refusal_status(exc), refusal_reason(exc)
        else:
            messages.success(request, done)
            return redirect("governance:framework-change", pk=change.pk)
    change = framework_change_get(user=request.user, pk=pk)
    # Decided meanwhile: the signing forms are gone, so the reason is shown on its own.
    refusal = None if change.is_pending else refusal
    return _render_detail(request, change, sign_form=form, status=status, refusal=refusal)


@require_POST
@role_required
def framework_change_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, framework_change_approve, "Approved: the change is in effect.")


@require_POST
@role_required
def framework_change_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, framework_change_reject, "Rejected: nothing changed.")


@require_POST
@role_required
def framework_change_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_lead(request)
    change = get_or_404(framework_change_get, user=request.user, pk=pk)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        framework_change_withdraw(
            change=change, by=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as exc:
        return refused(request, partial(_render_detail, request, change), exc)
    messages.success(request, "Withdrawn.")
    return redirect("governance:framework-change", pk=change.pk)


# --- classification rules --------------------------------------------------------------


class RuleProposalForm(forms.Form):
    """A rule's content as proposed; conditions as JSON, as the API takes them."""

    name = forms.CharField(max_length=200)
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    min_criticality = forms.TypedChoiceField(
        choices=[("", "—"), *Criticality.choices], coerce=int, empty_value=None, required=False
    )
    min_tier = forms.TypedChoiceField(
        choices=[("", "—"), *RiskTier.choices], coerce=int, empty_value=None, required=False
    )
    order = forms.IntegerField(min_value=0, initial=0)
    active = forms.BooleanField(required=False, initial=True)
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text='A JSON list, e.g. [{"question": "uses_pii", "operator": "is_true", '
        '"values": []}]. Operators: ' + ", ".join(RiskRuleCondition.Operator.values) + ".",
    )
    reason = forms.CharField(
        max_length=1000, help_text="What changes and why; the approver reads it."
    )

    def clean_conditions(self):
        try:
            value = json.loads(self.cleaned_data["conditions"])
        except ValueError as exc:
            raise ValidationError("Give the conditions as a JSON list.") from exc
        return value

    def content(self) -> dict:
        data = self.cleaned_data
        fields = ("name", "explanation", "min_criticality", "min_tier", "order", "active")
        return {**{f: data.get(f) for f in fields}, "conditions": data["conditions"]}


@role_required
def risk_rule_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "governance/riskrule_list.html",
        {
            "rules": risk_rule_list(active_only=False),
            "is_lead": is_governance_lead(request.user),
            "pending": framework_change_list(user=request.user, status="pending").filter(
                kind__startswith="risk_rule"
            ),
        },
    )


@role_required
def risk_rule_propose_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Propose a new rule (no ``pk``) or a change of one; GET shows the form."""
    _require_lead(request)
    rule = get_or_404(RiskRule.objects.get, pk=pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = RuleProposalForm(request.POST)
        if form.is_valid():
            try:
                change = risk_rule_propose(
                    content=form.content(),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    rule=rule,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Proposed (proposal #{change.pk}); it takes effect when another "
                    "governance lead signs the approval.",
                )
                return redirect("governance:framework-change", pk=change.pk)
        status = 400
    else:
        initial = {"conditions": "[]", "active": True, "order": 0}
        if rule is not None:
            content = risk_rule_content(rule)
            initial = {**content, "conditions": json.dumps(content["conditions"])}
        form = RuleProposalForm(initial=initial)
    response = render(request, "governance/riskrule_form.html", {"form": form, "rule": rule})
    response.status_code = status
    return response
