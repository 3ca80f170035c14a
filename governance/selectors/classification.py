"""Reads of the governance framework: the questionnaire and rules as engine data."""

from django.db.models import Prefetch, QuerySet

from accounts.permissions import has_any_role
from core import risk_engine
from governance.models import (
    Classification,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from inventory.models import Regulation


def regulation_list() -> QuerySet[Regulation]:
    return Regulation.objects.all()


def risk_question_list() -> QuerySet[RiskQuestion]:
    """The questionnaire, in order, with options prefetched."""
    return RiskQuestion.objects.prefetch_related(
        Prefetch("options", queryset=RiskQuestionOption.objects.order_by("order", "id"))
    )


def risk_question_as_engine(question: RiskQuestion) -> risk_engine.Question:
    """One question in the engine's plain form. Options of the regulations question
    are the regulation catalogue's codes."""
    if question.source == RiskQuestion.Source.REGULATIONS:
        options = dict(Regulation.objects.values_list("code", "name"))
    elif question.source == RiskQuestion.Source.CRITICAL_ASPECTS:
        # Imported here: the ethics selectors build on this module's package.
        from governance.selectors.ethics import ethics_aspect_options

        options = ethics_aspect_options()
    elif question.kind == RiskQuestion.Kind.BOOLEAN:
        options = {}
    else:
        options = {o.code: o.label for o in question.options.all()}
    required = question.required and question.source == RiskQuestion.Source.ANSWER
    return risk_engine.Question(
        code=question.code,
        text=question.text,
        kind=question.kind,
        options=options,
        required=required,
    )


def risk_questions_as_engine() -> list[risk_engine.Question]:
    return [risk_question_as_engine(q) for q in risk_question_list()]


def risk_rule_list(*, active_only: bool = True) -> QuerySet[RiskRule]:
    qs = RiskRule.objects.prefetch_related(
        Prefetch(
            "conditions",
            queryset=RiskRuleCondition.objects.select_related("question").order_by("id"),
        )
    )
    return qs.filter(active=True) if active_only else qs


def risk_rules_as_engine() -> list[risk_engine.Rule]:
    return [
        risk_engine.Rule(
            id=rule.pk,
            name=rule.name,
            explanation=rule.explanation,
            conditions=tuple(
                risk_engine.Condition(c.question.code, c.operator, tuple(c.values))
                for c in rule.conditions.all()
            ),
            min_criticality=rule.min_criticality,
            min_tier=rule.min_tier,
        )
        for rule in risk_rule_list()
    ]


def rules_fingerprint() -> str:
    return risk_engine.fingerprint(risk_rules_as_engine())


def classification_list(*, use_case) -> QuerySet[Classification]:
    """A use case's classification history, newest first."""
    return Classification.objects.filter(use_case=use_case).select_related("classified_by")


def classification_latest(*, use_case) -> Classification | None:
    return classification_list(use_case=use_case).first()


def classification_answers_for_form(*, use_case) -> dict:
    """The answers to pre-fill the questionnaire with: the latest ones, if any."""
    latest = classification_latest(use_case=use_case)
    return dict(latest.answers) if latest else {}


def classification_recent(*, user, limit: int = 8) -> QuerySet[Classification]:
    """The latest classifications across the portfolio, newest first (home dashboard).
    Empty for users without a governance role."""
    if not has_any_role(user):
        return Classification.objects.none()
    return Classification.objects.select_related("use_case", "classified_by")[:limit]


def classification_answers_display(*, classification: Classification) -> list[dict[str, str]]:
    """The answers of a classification as question text and answer labels, in
    questionnaire order, for people to read (codes are shown for options that no
    longer exist)."""
    regulation_names = dict(Regulation.objects.values_list("code", "name"))
    rows = []
    for question in risk_question_list():
        if question.code not in classification.answers:
            continue
        value = classification.answers[question.code]
        if question.kind == RiskQuestion.Kind.BOOLEAN:
            shown = "Yes" if value else "No"
        else:
            labels = (
                regulation_names
                if question.source == RiskQuestion.Source.REGULATIONS
                else risk_question_as_engine(question).options
                if question.source == RiskQuestion.Source.CRITICAL_ASPECTS
                else {o.code: o.label for o in question.options.all()}
            )
            values = value if isinstance(value, list) else [value]
            shown = ", ".join(labels.get(v, v) for v in values) or "None"
        rows.append({"question": question.text, "answer": shown})
    return rows
