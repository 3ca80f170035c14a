"""Reads of the governance framework: the questionnaire and rules as engine data."""

from django.db.models import Prefetch, Q, QuerySet

from accounts.permissions import has_any_role
from core import classification_facts, risk_engine
from core.memo import memoized
from governance.models import (
    Classification,
    ClassificationConfirmation,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from inventory.choices import RiskTier
from inventory.models import DatasetColumn, Regulation


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


# --- Facts cross-checked and the second line's confirmation (issue 12, item 4) -------------

CONFIRMATION_TIERS = (RiskTier.HIGH, RiskTier.CRITICAL)
# Moves past QA need a confirmed classification (core.promotion_rules.ORDER).
PAST_QA = ("preprod", "prod")


def pii_columns_for(*, use_case) -> dict[str, list[str]]:
    """PII columns of the datasets the use case names and its versions trained on:
    dataset name -> column names."""
    # Two queries, not one with OR across the two joins: SQLite could use no index for
    # the OR and joined every use case's datasets with every version (minutes at 10,000
    # use cases, issue 18).
    pii = DatasetColumn.objects.filter(is_pii=True)
    out: dict[str, set[str]] = {}
    for columns in (
        pii.filter(dataset__use_cases=use_case),
        pii.filter(dataset__trained_versions__model__use_case=use_case),
    ):
        for dataset, column in columns.values_list("dataset__name", "name"):
            out.setdefault(dataset, set()).add(column)
    return {name: sorted(cols) for name, cols in out.items()}


def question_option_labels(code: str) -> dict[str, str]:
    return dict(RiskQuestionOption.objects.filter(question__code=code).values_list("code", "label"))


def classification_contradictions(*, use_case, answers: dict) -> list:
    """What the data contradicts in these answers (core.classification_facts)."""
    return classification_facts.contradictions(
        answers=answers,
        uses_pii=use_case.uses_pii,
        pii_columns=pii_columns_for(use_case=use_case),
        prohibited_labels=question_option_labels(classification_facts.PROHIBITED_QUESTION),
    )


def classification_confirmation_for(*, use_case) -> ClassificationConfirmation | None:
    """The confirmation that still counts for the use case's current classification, or
    None. It counts for the classification it signed and for later classifications that
    kept its answers (facts included) and its tier, whoever ran them: the re-evaluations
    after an approved rule change, a new ethical position or the admin's button change
    nothing the risk officer confirmed. Any changed answer, fact (PII flag, regulation)
    or tier voids it."""
    confirmation = (
        ClassificationConfirmation.objects.filter(use_case=use_case)
        .select_related("classification", "confirmed_by")
        .order_by("-confirmed_at", "-id")
        .first()
    )
    if confirmation is None:
        return None
    signed = confirmation.classification
    later = Classification.objects.filter(use_case=use_case).filter(
        Q(classified_at__gt=signed.classified_at)
        | Q(classified_at=signed.classified_at, pk__gt=signed.pk)
    )
    for c in later:
        if c.risk_tier != signed.risk_tier or c.answers != signed.answers:
            return None
    return confirmation


def classification_needs_confirmation(*, use_case) -> bool:
    return use_case.risk_tier in CONFIRMATION_TIERS


def classification_downgrade_pending(*, use_case) -> Classification | None:
    """The latest classification when it gives a lower tier than the one in effect:
    a lower tier applies only once a risk officer confirms it (issue 12), and until
    then the use case keeps its tier. None when nothing waits."""
    latest = classification_latest(use_case=use_case)
    if latest is None or use_case.risk_tier is None or latest.risk_tier >= use_case.risk_tier:
        return None
    return latest


@memoized
def classification_blocking(use_case, target_env: str) -> list[tuple[str, str]]:
    """Why the use case's classification stops a move into ``target_env``: (code,
    message) pairs, empty when nothing does. Read by the promotion request's blocking
    items and by the deployment gate.

    - facts the data contradicts (PII columns while "uses PII: no"; an EU AI Act
      Article 5 practice), whatever the environment past development;
    - High and Critical classifications not confirmed by a risk officer, for moves
      past QA.
    """
    if target_env == "dev":
        return []
    latest = classification_latest(use_case=use_case)
    items = [
        (f"classification:{c.code}", c.message)
        for c in classification_contradictions(
            use_case=use_case, answers=latest.answers if latest else {}
        )
    ]
    if (
        target_env in PAST_QA
        and classification_needs_confirmation(use_case=use_case)
        and classification_confirmation_for(use_case=use_case) is None
    ):
        items.append(
            (
                "classification:unconfirmed",
                f"The {use_case.get_risk_tier_display()} classification is not confirmed by "
                "a risk officer (a signed confirmation is needed before any move past QA; "
                "a re-classification voids an earlier one).",
            )
        )
    return items
