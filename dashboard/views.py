"""Pages that compose several apps: the home dashboard (portfolio, classification,
ethics, RACI, obligations, drift alerts) and the use case page (inventory record,
classification and its reasons, the latest bias summary, history).

This is the one place that reads from every app, so that no app below it has to
import an app above it (see ``.importlinter``). Views only call selectors and render.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.permissions import has_role
from accounts.roles import Role
from accounts.web import chart_figure, get_or_404, role_required
from audit.figures import audit_head, figure_while_unchanged
from audit.views import history_context
from core.charts import governance as charts
from dashboard.my_work import my_work, my_work_counts
from fairness.selectors import bias_summary_latest_for_use_case
from fairness.views import summary_charts
from governance.selectors import (
    classification_answers_display,
    classification_list,
    classification_recent,
)
from governance.selectors.classification import (
    classification_blocking,
    classification_confirmation_for,
    classification_downgrade_pending,
    classification_needs_confirmation,
)
from governance.selectors.ethics import (
    ethics_deviation_list,
    use_cases_without_ethics_answers,
)
from governance.selectors.obligations import obligation_status_by_tier
from governance.selectors.raci import use_cases_with_incomplete_raci_count
from governance.selectors.regulations import requirements_for_use_case
from inventory import permissions
from inventory.choices import OPERATIONALISATION, Criticality, LifecycleStatus, RiskTier
from inventory.selectors import use_case_get, use_case_portfolio_counts
from monitoring.selectors import alerts_open_for_home
from oversight.permissions import can_read_oversight
from oversight.selectors.kpis import kri_breaches_latest


@role_required
def home(request: HttpRequest) -> HttpResponse:
    counts = use_case_portfolio_counts(user=request.user)
    list_url = reverse("inventory:use-case-list")
    tiers = [
        {"value": value, "label": label, "count": counts["by_tier"].get(value, 0)}
        for value, label in RiskTier.choices
    ]
    statuses = [
        {"value": value, "label": label, "count": counts["by_status"].get(value, 0)}
        for value, label in LifecycleStatus.choices
    ]
    high = sum(t["count"] for t in tiers if t["value"] >= RiskTier.HIGH)
    # The three figures that read every use case or obligation are kept until the
    # records change (anything audited) or the day does: ``audit.figures``.
    head, me = audit_head(), request.user.pk
    obligation_table = figure_while_unchanged(
        "obligation-tally", lambda day: obligation_status_by_tier(today=day), head=head
    )
    heatmap = charts.portfolio_heatmap(counts["matrix"], tiers=RiskTier.choices, list_url=list_url)
    return render(
        request,
        "dashboard/home.html",
        {
            "counts": counts,
            "tiers": tiers,
            "statuses": statuses,
            "high_or_critical": high,
            "in_production": counts["by_status"].get(LifecycleStatus.PRODUCTION, 0),
            "without_ethics": figure_while_unchanged(
                f"ethics-unanswered:{me}",
                lambda _day: use_cases_without_ethics_answers(user=request.user).count(),
                head=head,
            ),
            "raci_incomplete": use_cases_with_incomplete_raci_count(user=request.user),
            "obligations": {
                "open": obligation_table["open"],
                "overdue": obligation_table["overdue_total"],
            },
            "obligation_table": obligation_table,
            "drift_alerts": alerts_open_for_home(user=request.user),
            # Step 8: the key risk indicators in breach, for those who read the KPIs.
            "kri_breaches": kri_breaches_latest() if can_read_oversight(request.user) else [],
            "heatmap": chart_figure(heatmap),
            "recent": classification_recent(user=request.user),
            "levels": [
                {"value": value, "label": label, "operationalisation": OPERATIONALISATION[value]}
                for value, label in Criticality.choices
            ],
        },
    )


def _reasons_for_display(reasons: list[dict]) -> list[dict]:
    def label(choices, value):
        return choices(value).label if value else None

    return [
        {
            **reason,
            "tier_label": label(RiskTier, reason.get("min_tier")),
            "criticality_label": label(Criticality, reason.get("min_criticality")),
        }
        for reason in reasons or []
    ]


@role_required
def use_case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    history = list(classification_list(use_case=use_case))
    current = history[0] if history else None
    can_change = permissions.can_change_use_case(request.user, use_case)
    reasons = _reasons_for_display(current.reasons) if current else []
    return render(
        request,
        "dashboard/usecase_detail.html",
        {
            "use_case": use_case,
            "current": current,
            "decisive_reasons": [r for r in reasons if r.get("decisive")],
            "other_reasons": [r for r in reasons if not r.get("decisive")],
            "answers": classification_answers_display(classification=current) if current else [],
            "operationalisation": OPERATIONALISATION.get(use_case.criticality)
            if use_case.criticality
            else None,
            "history": history,
            "can_change": can_change,
            "can_classify": permissions.can_classify(request.user, use_case),
            "bias": _latest_bias_summary(use_case),
            "ethics_deviations": ethics_deviation_list(user=request.user, use_case=use_case),
            # Issue 12: the second line's confirmation, what the data contradicts, and
            # per regulatory requirement whether it is met and by what evidence.
            "confirmation_needed": classification_needs_confirmation(use_case=use_case),
            "downgrade_pending": classification_downgrade_pending(use_case=use_case),
            "confirmation": classification_confirmation_for(use_case=use_case),
            "classification_blocking": classification_blocking(use_case, "prod"),
            "can_confirm": has_role(request.user, Role.RISK_OFFICER),
            "requirements": requirements_for_use_case(use_case=use_case),
            **history_context(use_case, request.user),
        },
    )


def _latest_bias_summary(use_case) -> dict | None:
    """The newest finished bias summary of the use case's versions, with its first
    attribute's charts, for the use case page (the full summary has its own page)."""
    summary = bias_summary_latest_for_use_case(use_case=use_case)
    if summary is None:
        return None
    charts = summary_charts(summary.result)
    first = charts[0]["block"] if charts else None
    return {
        "summary": summary,
        "charts": [c for c in charts if c["block"] == first],
        "breaches": len(summary.result.get("breaches", [])),
    }


@role_required
def my_work_view(request: HttpRequest) -> HttpResponse:
    """What the signed-in person must do next, across the apps."""
    sections = my_work(user=request.user)
    return render(
        request,
        "dashboard/my_work.html",
        {
            "sections": {s.key: s for s in sections},
            "total": sum(s.count for s in sections),
            "at_least": any(s.at_least for s in sections),
        },
    )


@role_required
def my_work_counts_view(request: HttpRequest) -> JsonResponse:
    """The navigation's badge: how much work waits, per section (read by a static
    script after the page has loaded, so no page pays for it)."""
    response = JsonResponse(my_work_counts(user=request.user))
    response["Cache-Control"] = "private, no-cache"
    return response
