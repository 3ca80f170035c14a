"""Pages of findings management (issue 16): the portfolio's findings with filters, their
ageing chart and CSV export, and a finding's page, where its owner plans and
remediates, the second line verifies and closes, re-grades or re-assigns, and the
authority the policy names accepts the risk (on the signing page).

Who may do what is decided in ``reviews.selectors.findings`` (the buttons) and again in
the services (the writes); a refusal is answered on the page with the reason (403 for
who, 400 for what), nothing written. Filters out of range are a 400.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import has_role
from accounts.roles import SECOND_LINE
from accounts.web import chart_figure, get_or_404, page_by_ids, refused, role_required
from audit.figures import figure_while_unchanged
from core import finding_rules as fr
from core.charts import governance as charts
from governance.selectors.policy import policy_finding_rules
from reviews.filters import FindingFilterSet
from reviews.models import Finding, RemediationAction
from reviews.selectors import findings as sel
from reviews.services import findings as svc

PAGE_SIZE = 50
TEXTAREA = forms.Textarea(attrs={"rows": 3})
MAX_PLAN_ACTIONS = svc.MAX_ACTIONS


@role_required
def finding_list_view(request: HttpRequest) -> HttpResponse:
    filterset = FindingFilterSet(request.GET, queryset=sel.finding_list())
    valid = filterset.is_valid()
    qs = filterset.qs if valid else sel.finding_list().none()
    today = timezone.localdate()
    # The summary and the ageing chart read every row the filters select: kept per
    # filter until anything is audited (audit.figures), so paging and coming back are
    # cheap; the page's rows are read by id (accounts.web.page_by_ids).
    chosen = json.dumps(filterset.form.cleaned_data if valid else None, sort_keys=True, default=str)
    overview = figure_while_unchanged(
        "findings-overview:" + hashlib.sha256(chosen.encode()).hexdigest(),
        lambda day: {
            "summary": sel.findings_summary(qs, today=day),
            "ageing": chart_figure(charts.findings_ageing(sel.findings_ageing(qs, today=day))),
        },
        day=today,
    )
    return render(
        request,
        "reviews/findings.html",
        {
            "filter": filterset,
            "page_obj": page_by_ids(
                qs.order_by("-opened_at", "-id"),
                sel.finding_list(),
                request.GET.get("page"),
                per_page=PAGE_SIZE,
            ),
            **overview,
            "today": today,
            "csv_query": request.GET.urlencode(),
            "severities": Finding.Severity.choices,
            "rules": policy_finding_rules(),
        },
        status=200 if valid else 400,
    )


@role_required
def finding_export_csv(request: HttpRequest) -> HttpResponse:
    filterset = FindingFilterSet(request.GET, queryset=sel.finding_list())
    if not filterset.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    body = sel.findings_csv(filterset.qs.order_by("pk"))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="findings-{timezone.localdate().isoformat()}.csv"'
    )
    return response


# --- A finding's page ----------------------------------------------------------------------


class PlanForm(forms.Form):
    plan = forms.CharField(widget=TEXTAREA, max_length=4000, label="Remediation plan")
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
        label="Actions",
        help_text="One per line: the date (YYYY-MM-DD), a space, then what will be done.",
    )

    def clean_actions(self) -> list[dict]:
        out = []
        lines = [line.strip() for line in self.cleaned_data["actions"].splitlines()]
        for n, line in enumerate((line for line in lines if line), start=1):
            when, _, text = line.partition(" ")
            try:
                day = date.fromisoformat(when)
            except ValueError as exc:
                raise ValidationError(
                    f"Line {n}: start with the date as YYYY-MM-DD, then what will be done."
                ) from exc
            out.append({"due_on": day, "text": text.strip()})
        if len(out) > MAX_PLAN_ACTIONS:
            raise ValidationError(f"A plan has at most {MAX_PLAN_ACTIONS} actions.")
        return out


class NoteForm(forms.Form):
    note = forms.CharField(widget=TEXTAREA, max_length=4000)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Finding.Severity.choices)
    reason = forms.CharField(max_length=2000)


class OwnerForm(forms.Form):
    owner = forms.CharField(max_length=150, label="Owner's username")
    reason = forms.CharField(max_length=2000)


def _finding_or_404(pk: int) -> Finding:
    return get_or_404(sel.finding_get, pk=pk)


def _detail_page(request, finding, *, refusal=None, refusal_for="", forms_=None, status=200):
    user = request.user
    moves = sel.finding_moves_for(user, finding)
    forms_ = forms_ or {}
    rule = policy_finding_rules()[finding.severity]
    return render(
        request,
        "reviews/finding_detail.html",
        {
            "finding": finding,
            "version": finding.model_version,
            "use_case": finding.model_version.model.use_case,
            "actions": sel.finding_actions(finding),
            "events": sel.finding_events(finding),
            "acceptances": sel.finding_acceptances(finding),
            "current_acceptance": sel.acceptance_current(finding),
            "rule": rule,
            "overdue": fr.is_overdue(finding.status, finding.due_on, timezone.localdate()),
            "moves": moves,
            "owner_side": sel.is_owner_side(user, finding),
            "second_line": has_role(user, *SECOND_LINE),
            "plan_form": forms_.get("plan") or PlanForm(initial={"plan": finding.remediation_plan}),
            "note_form": forms_.get("note") or NoteForm(),
            "severity_form": forms_.get("severity")
            or SeverityForm(initial={"severity": finding.severity}),
            "owner_form": forms_.get("owner") or OwnerForm(),
            "refusal": refusal,
            "refusal_for": refusal_for,
            "today": timezone.localdate(),
        },
        status=status,
    )


def _answer(
    request, finding, what: str, form: forms.Form, write, done: str, form_key: str = ""
) -> HttpResponse:
    """Run ``write(cleaned_data)`` for a valid form; a refusal on the page, a 400 for a
    bad form (its errors beside it: ``form_key`` names the page's form, default
    ``what``)."""
    page = partial(
        _detail_page, request, finding, refusal_for=what, forms_={form_key or what: form}
    )
    if not form.is_valid():
        return page(status=400)
    try:
        write(form.cleaned_data)
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, page, exc)
    messages.success(request, done)
    return redirect("reviews:finding-detail", pk=finding.pk)


@role_required
def finding_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _finding_or_404(pk))


@role_required
@require_POST
def finding_plan_view(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_or_404(pk)
    return _answer(
        request,
        finding,
        "plan",
        PlanForm(request.POST),
        lambda d: svc.finding_plan(
            finding=finding, by=request.user, plan=d["plan"], actions=d["actions"]
        ),
        "Remediation plan recorded.",
    )


@role_required
@require_POST
def finding_action_done_view(request: HttpRequest, pk: int, action_pk: int) -> HttpResponse:
    finding = _finding_or_404(pk)
    action = get_or_404(
        lambda pk: RemediationAction.objects.get(pk=pk, finding=finding), pk=action_pk
    )
    return _answer(
        request,
        finding,
        "action",
        forms.Form(request.POST),
        lambda d: svc.remediation_action_done(
            action=action, by=request.user, note=request.POST.get("note", "")
        ),
        "Action marked done.",
    )


def _note_move(request, pk: int, what: str, write, done: str) -> HttpResponse:
    finding = _finding_or_404(pk)
    return _answer(
        request,
        finding,
        what,
        NoteForm(request.POST),
        lambda d: write(finding=finding, by=request.user, note=d["note"]),
        done,
        form_key="note",
    )


@role_required
@require_POST
def finding_remediate_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_move(
        request,
        pk,
        "remediated",
        svc.finding_remediate,
        "Marked remediated: the second line verifies it next.",
    )


@role_required
@require_POST
def finding_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    if outcome not in ("verified", "refused"):
        finding = _finding_or_404(pk)
        why = sel.finding_who_refusal(request.user, finding, fr.VERIFIED)
        page = partial(_detail_page, request, finding, refusal_for="verified")
        if why:  # who first, as everywhere
            return refused(request, page, PermissionDenied(why))
        return refused(
            request, page, "Say whether the remediation is verified or sent back (outcome)."
        )
    accepted = outcome == "verified"
    return _note_move(
        request,
        pk,
        "verified",
        partial(svc.finding_verify, accepted=accepted),
        "Remediation verified." if accepted else "Sent back to the owner's plan.",
    )


@role_required
@require_POST
def finding_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _note_move(request, pk, "closed", svc.finding_close, "Finding closed.")


@role_required
@require_POST
def finding_severity_view(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_or_404(pk)
    return _answer(
        request,
        finding,
        "severity",
        SeverityForm(request.POST),
        lambda d: svc.finding_set_severity(
            finding=finding, by=request.user, severity=d["severity"], reason=d["reason"]
        ),
        "Severity changed; the due date follows the policy.",
    )


@role_required
@require_POST
def finding_owner_view(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_or_404(pk)

    def write(d):
        owner = User.objects.filter(username=d["owner"]).first()
        if owner is None:
            raise ValidationError({"owner": "No user has this username."})
        svc.finding_set_owner(finding=finding, by=request.user, owner=owner, reason=d["reason"])

    return _answer(request, finding, "owner", OwnerForm(request.POST), write, "Owner changed.")
