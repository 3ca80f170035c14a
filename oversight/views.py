"""Pages of Step 8 (issue 16): the KPI trends (``/kpis/``, its CSV), and the framework
reviews (list, opening one, its page with the conclusion, proposals, drafts and the
signature). Risk officers, governance leads and auditors read them; governance leads
write (checked again by the services). A refusal is answered on the page with its
reason, nothing written; a bad ``days`` is a 400 naming the allowed values.
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.sso.signing import signing_data, signing_form
from accounts.web import (
    PasswordSignForm,
    add_service_errors,
    chart_figure,
    get_or_404,
    refusal_status,
    refused,
)
from audit.figures import figure_while_unchanged
from core.charts import kpis as charts
from governance.models import PolicyVersion
from governance.selectors.policy import consideration_choices
from inventory.choices import RiskTier
from oversight.models import FrameworkReview, PolicyChangeProposal
from oversight.permissions import can_write_reviews, reader_required
from oversight.selectors import framework as fsel
from oversight.selectors import kpis as sel
from oversight.services import framework as svc

TEXTAREA = forms.Textarea(attrs={"rows": 4})


def _days(request: HttpRequest) -> tuple[int | None, str]:
    raw = request.GET.get("days", "")
    if raw == "":
        return sel.DEFAULT_PERIOD, ""
    allowed = ", ".join(map(str, sel.PERIODS))
    try:
        days = int(raw)
    except ValueError:
        return None, f"days must be a whole number of days, one of {allowed}; got {raw[:20]!r}."
    if days not in sel.PERIODS:
        return None, f"days must be one of {allowed}; got {days}."
    return days, ""


@reader_required
def kpi_view(request: HttpRequest) -> HttpResponse:
    days, error = _days(request)
    if error:
        return render(
            request, "oversight/kpis.html", {"error": error, "periods": sel.PERIODS}, status=400
        )
    today = timezone.localdate()
    snapshots = sel.snapshots_for(days=days, today=today)
    latest_day, latest = snapshots[-1] if snapshots else (None, {})
    kris = list(sel.kri_list())
    # Snapshots are append-only, one a day, and the KRIs' levels are audited: the
    # charts (seven Plotly figures of up to a year of days) are kept for this period's
    # snapshots until anything is audited (audit.figures).
    first_day = snapshots[0][0] if snapshots else None
    chart_list = figure_while_unchanged(
        f"kpi-charts:{days}:{len(snapshots)}:{first_day}:{latest_day}",
        lambda _day: _charts(snapshots, kris),
    )
    return render(
        request,
        "oversight/kpis.html",
        {
            "days": days,
            "periods": sel.PERIODS,
            "latest_day": latest_day,
            "snapshot_count": len(snapshots),
            "rows": sel.indicator_rows(latest, kris, today=today),
            "kri_statuses": sel.kri_statuses(latest, kris),
            "charts": chart_list,
            "can_write": can_write_reviews(request.user),
        },
    )


def _charts(snapshots, kris) -> list[dict]:
    by_key = {k.indicator: k for k in kris}
    chart_list = []
    for chart_id, title, keys, y_title in sel.CHARTS:
        series = sel.chart_series(snapshots, keys)
        levels = []
        for key in keys:
            kri = by_key.get(key)
            if kri and len(keys) == 1:
                levels.append(("Breach", kri.breach_level))
                if kri.warning_level is not None:
                    levels.append(("Warning", kri.warning_level))
        figure = charts.kpi_trend(series["days"], series["lines"], levels=levels, y_title=y_title)
        chart_list.append(
            {
                "id": chart_id,
                "data_id": f"chart-{chart_id}-data",
                "title": title,
                "figure": chart_figure(figure),
            }
        )
    return chart_list


@reader_required
def kpi_export_csv(request: HttpRequest) -> HttpResponse:
    days, error = _days(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    today = timezone.localdate()
    body = sel.snapshots_csv(sel.snapshots_for(days=days, today=today))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="governance-kpis-{days}d-{today.isoformat()}.csv"'
    )
    return response


# --- Framework reviews ------------------------------------------------------------------------


class ReviewCreateForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class ConclusionForm(forms.Form):
    conclusion = forms.CharField(widget=TEXTAREA, max_length=20000)


class ProposalForm(forms.Form):
    tier = forms.TypedChoiceField(choices=RiskTier.choices, coerce=int, label="Risk tier")
    consideration = forms.ChoiceField(choices=())
    proposed_level = forms.ChoiceField(
        choices=[(v, v.capitalize()) for v in ("none", "light", "medium", "strict")],
        label="Proposed measure level",
    )
    rationale = forms.CharField(widget=TEXTAREA, max_length=5000)
    evidence = forms.CharField(
        required=False,
        max_length=2000,
        label="Evidence",
        help_text="What motivated it, comma-separated: finding:12, waiver:3, snapshot:40.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consideration"].choices = consideration_choices()

    def clean_evidence(self) -> list[dict]:
        out = []
        for part in filter(None, (p.strip() for p in self.cleaned_data["evidence"].split(","))):
            kind, _, pk = part.partition(":")
            pk = pk.strip()
            if kind not in fsel.EVIDENCE_KINDS or not pk.isdigit() or len(pk) > 12:
                raise ValidationError(
                    f"{part!r}: write kind:id, the kind one of {', '.join(fsel.EVIDENCE_KINDS)}."
                )
            out.append({"kind": kind, "id": int(pk), "label": f"{kind.capitalize()} #{int(pk)}"})
        if len(out) > 50:
            raise ValidationError("Link at most 50 records.")
        return out


def _list_page(request: HttpRequest, *, form=None, refusal=None, status=200) -> HttpResponse:
    start, end = svc.default_period()
    return render(
        request,
        "oversight/review_list.html",
        {
            "reviews": fsel.framework_review_list().order_by("-period_end", "-id"),
            "due": fsel.framework_review_due(),
            "interval_days": settings.FRAMEWORK_REVIEW_INTERVAL_DAYS,
            "can_write": can_write_reviews(request.user),
            "form": form or ReviewCreateForm(initial={"period_start": start, "period_end": end}),
            "refusal": refusal,
        },
        status=status,
    )


@reader_required
def review_list_view(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@reader_required
@require_POST
def review_create_view(request: HttpRequest) -> HttpResponse:
    form = ReviewCreateForm(request.POST)
    page = partial(_list_page, request, form=form)
    if not form.is_valid():
        return page(status=400)
    try:
        review = svc.framework_review_create(by=request.user, **form.cleaned_data)
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, ValidationError):
            add_service_errors(form, exc)
        return refused(request, page, exc)
    messages.success(request, "Framework review opened: its indicators are frozen.")
    return redirect("oversight:review-detail", pk=review.pk)


def _review_or_404(pk: int) -> FrameworkReview:
    return get_or_404(fsel.framework_review_get, pk=pk)


def _detail_page(request, review, *, forms_=None, refusal=None, status=200) -> HttpResponse:
    forms_ = forms_ or {}
    user = request.user
    writable = can_write_reviews(user) and not review.is_signed
    tiers = dict(RiskTier.choices)
    cells = [{**c, "tier_label": tiers.get(c["tier"], "Unclassified")} for c in review.cells]
    by_consideration: dict[str, list[int]] = {}
    for c in review.cells:
        pair = by_consideration.setdefault(c["consideration"], [0, 0])
        pair[0] += c["waivers"]
        pair[1] += c["findings"]
    names = list(by_consideration)
    cells_chart = charts.cell_bars(
        names,
        {
            "Waivers": [by_consideration[n][0] for n in names],
            "Findings": [by_consideration[n][1] for n in names],
        },
    )
    return render(
        request,
        "oversight/review_detail.html",
        {
            "review": review,
            "proposals": fsel.proposal_list(review),
            "tiers": tiers,
            "cells": cells,
            "cells_chart": chart_figure(cells_chart),
            "can_write": writable,
            "sign_refusal": svc.framework_review_sign_refusal(user, review),
            "conclusion_form": forms_.get("conclusion")
            or ConclusionForm(initial={"conclusion": review.conclusion}),
            "proposal_form": forms_.get("proposal") or ProposalForm(),
            "sign_form": signing_form(request, forms_.get("sign") or PasswordSignForm()),
            "refusal": refusal,
            "draft_status": PolicyVersion.Status.DRAFT,
        },
        status=status,
    )


@reader_required
def review_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _review_or_404(pk))


def _answer(request, review, key: str, form: forms.Form, write, done: str) -> HttpResponse:
    page = partial(_detail_page, request, review, forms_={key: signing_form(request, form)})
    if not form.is_valid():
        return page(status=400)
    try:
        write(signing_data(request, form))
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            add_service_errors(form, exc)
            return page(refusal=" ".join(exc.messages), status=refusal_status(exc))
        return refused(request, page, exc)
    messages.success(request, done)
    return redirect("oversight:review-detail", pk=review.pk)


@reader_required
@require_POST
def review_conclude_view(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    return _answer(
        request,
        review,
        "conclusion",
        ConclusionForm(request.POST),
        lambda d: svc.framework_review_conclude(
            review=review, by=request.user, conclusion=d["conclusion"]
        ),
        "Conclusion saved.",
    )


@reader_required
@require_POST
def proposal_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    return _answer(
        request,
        review,
        "proposal",
        ProposalForm(request.POST),
        lambda d: svc.proposal_add(review=review, by=request.user, **d),
        "Proposal added.",
    )


@reader_required
@require_POST
def proposal_draft_view(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    proposal = get_or_404(
        lambda pk: PolicyChangeProposal.objects.get(pk=pk, review=review), pk=proposal_pk
    )
    return _answer(
        request,
        review,
        "draft",
        forms.Form(request.POST),
        lambda d: svc.proposal_make_draft(proposal=proposal, by=request.user),
        "The proposal is in the policy draft: publish it with four eyes on the policy page.",
    )


@reader_required
@require_POST
def review_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    return _answer(
        request,
        review,
        "sign",
        PasswordSignForm(request.POST),
        lambda d: svc.framework_review_sign(review=review, by=request.user, password=d["password"]),
        "Framework review signed.",
    )
