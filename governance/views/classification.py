"""Pages of the governance framework: the home dashboard and the Step 1 questionnaire.

Views only parse input, call a selector or a service and render. Every page needs a
signed-in user holding a governance role (``role_required``); object-level rules
come from ``inventory.permissions``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.web import chart_figure, get_or_404, role_required
from core.charts import governance as charts
from governance.forms import ClassificationForm, add_service_errors
from governance.models import RiskQuestion
from governance.selectors import (
    classification_answers_for_form,
    classification_recent,
    regulation_list,
    risk_question_as_engine,
    risk_question_list,
)
from governance.selectors.ethics import use_cases_without_ethics_answers
from governance.selectors.obligations import obligation_kpis, obligation_status_by_tier
from governance.selectors.raci import use_cases_with_incomplete_raci
from governance.services import classification_submit, use_case_facts
from inventory import permissions as inventory_permissions
from inventory.choices import OPERATIONALISATION, Criticality, LifecycleStatus, RiskTier
from inventory.selectors import use_case_get, use_case_portfolio_counts
from monitoring.selectors import alerts_open_for_home


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
    heatmap = charts.portfolio_heatmap(counts["matrix"], tiers=RiskTier.choices, list_url=list_url)
    return render(
        request,
        "governance/home.html",
        {
            "counts": counts,
            "tiers": tiers,
            "statuses": statuses,
            "high_or_critical": high,
            "in_production": counts["by_status"].get(LifecycleStatus.PRODUCTION, 0),
            "without_ethics": use_cases_without_ethics_answers(user=request.user).count(),
            "raci_incomplete": len(use_cases_with_incomplete_raci(user=request.user)),
            "obligations": obligation_kpis(),
            "obligation_table": obligation_status_by_tier(),
            "drift_alerts": alerts_open_for_home(user=request.user),
            "heatmap": chart_figure(heatmap),
            "recent": classification_recent(user=request.user),
            "levels": [
                {"value": value, "label": label, "operationalisation": OPERATIONALISATION[value]}
                for value, label in Criticality.choices
            ],
        },
    )


def _critical_aspects_display(question: RiskQuestion, value: list[str]) -> str:
    labels = risk_question_as_engine(question).options
    return ", ".join(labels.get(code, code) for code in value) or "None"


def _fact_display(question: RiskQuestion, value, regulation_names: dict[str, str]) -> str:
    if question.source == RiskQuestion.Source.USES_PII:
        return "Yes" if value else "No"
    if question.source == RiskQuestion.Source.REGULATIONS:
        return ", ".join(regulation_names.get(code, code) for code in value) or "None"
    if question.source == RiskQuestion.Source.CRITICAL_ASPECTS:  # Step 2
        return _critical_aspects_display(question, value or [])
    return str(value)


@role_required
def use_case_classify(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not inventory_permissions.can_classify(request.user, use_case):
        raise PermissionDenied("You cannot classify this use case.")
    questions = list(risk_question_list())
    if request.method == "POST":
        form = ClassificationForm(request.POST, questions=questions)
        if form.is_valid():
            try:
                classification = classification_submit(
                    use_case=use_case, answers=form.answers(), by=request.user, note=form.note()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Classified: criticality level {classification.criticality}, "
                    f"{classification.get_risk_tier_display().lower()} risk tier.",
                )
                url = reverse("inventory:use-case-detail", kwargs={"pk": use_case.pk})
                return redirect(f"{url}#classification")
    else:
        initial = ClassificationForm.initial_from_answers(
            classification_answers_for_form(use_case=use_case)
        )
        form = ClassificationForm(questions=questions, initial=initial)

    facts = use_case_facts(use_case)
    regulation_names = dict(regulation_list().values_list("code", "name"))
    items = [
        {
            "question": q,
            "field": form[q.code] if q.code in form.fields else None,
            "fact": _fact_display(q, facts.get(q.code), regulation_names)
            if q.source != RiskQuestion.Source.ANSWER
            else None,
        }
        for q in questions
    ]
    return render(
        request,
        "governance/classification_form.html",
        {
            "use_case": use_case,
            "form": form,
            "items": items,
            "can_change_use_case": inventory_permissions.can_change_use_case(
                request.user, use_case
            ),
        },
    )
