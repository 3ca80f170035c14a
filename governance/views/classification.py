"""The Step 1 questionnaire of a use case.

Views only parse input, call a selector or a service and render. Every page needs a
signed-in user holding a governance role (``role_required``); object-level rules
come from ``inventory.permissions``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.web import add_service_errors, get_or_404, role_required
from governance.forms import ClassificationForm
from governance.models import RiskQuestion
from governance.selectors import (
    classification_answers_for_form,
    regulation_list,
    risk_question_as_engine,
    risk_question_list,
)
from governance.services import classification_submit, use_case_facts
from inventory import permissions as inventory_permissions
from inventory.selectors import use_case_get


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
                url = reverse("dashboard:use-case-detail", kwargs={"pk": use_case.pk})
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
        # A refused submission (invalid, or contradicted by the data) is a 400.
        status=400 if request.method == "POST" else 200,
    )
