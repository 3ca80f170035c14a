"""Writes of the governance framework: classifying use cases."""

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core import risk_engine
from governance.models import Classification, RiskQuestion
from governance.selectors import (
    classification_latest,
    ethics_critical_aspects_for,
    risk_question_list,
    risk_questions_as_engine,
    risk_rules_as_engine,
)
from inventory.models import UseCase

logger = logging.getLogger(__name__)


def use_case_facts(use_case: UseCase) -> dict[str, Any]:
    """Answers that are read from the use case itself rather than asked."""
    facts: dict[str, Any] = {}
    for question in risk_question_list().exclude(source=RiskQuestion.Source.ANSWER):
        if question.source == RiskQuestion.Source.REGULATIONS:
            facts[question.code] = sorted(use_case.regulations.values_list("code", flat=True))
        elif question.source == RiskQuestion.Source.USES_PII:
            facts[question.code] = use_case.uses_pii
        elif question.source == RiskQuestion.Source.CRITICAL_ASPECTS and (
            touched := ethics_critical_aspects_for(use_case=use_case)
        ):
            # Left out when empty: a use case without ethics answers touches nothing
            # and its facts stay as they were before Step 2.
            facts[question.code] = touched
    return facts


def _classify(*, use_case: UseCase, answers: dict[str, Any], by: User | None, note: str):
    questions = risk_questions_as_engine()
    asked = {q.code for q in risk_question_list().filter(source=RiskQuestion.Source.ANSWER)}
    own = {k: v for k, v in answers.items() if k in asked or k not in {q.code for q in questions}}
    full = {**own, **use_case_facts(use_case)}
    errors = risk_engine.validate_answers(questions, full)
    if errors:
        raise ValidationError(errors)
    rules = risk_rules_as_engine()
    result = risk_engine.evaluate(questions, rules, full)
    previous = classification_latest(use_case=use_case)
    classification = Classification(
        use_case=use_case,
        answers=full,
        criticality=result.criticality,
        risk_tier=result.tier,
        previous_criticality=previous.criticality if previous else None,
        previous_risk_tier=previous.risk_tier if previous else None,
        reasons=result.reasons_as_data(),
        rules_fingerprint=risk_engine.fingerprint(rules),
        classified_by=by,
        classified_at=timezone.now(),
        note=note,
    )
    classification.full_clean()
    classification.save()
    use_case.criticality = result.criticality
    use_case.risk_tier = result.tier
    use_case.save(update_fields=["criticality", "risk_tier", "updated_at"])
    # Step 5: what the use case owes follows its class; recomputed after commit.
    from governance.services.obligations import obligations_recompute_later

    obligations_recompute_later(use_case=use_case, by=by, reason=f"Classified: {note}")
    return classification


@transaction.atomic
def classification_submit(
    *, use_case: UseCase, answers: dict[str, Any], by: User, note: str = ""
) -> Classification:
    """Answer the Step 1 questionnaire for a use case and record its new class.

    Answers for questions read from the use case (regulations, PII) are taken from
    the use case, not from ``answers``. Raises ValidationError (keyed by question
    code) for a missing, unknown or invalid answer; nothing is written then.
    """
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    return _classify(
        use_case=use_case, answers=answers, by=by, note=note or "Questionnaire answered."
    )


def classification_refresh(*, use_case: UseCase, by: User | None, note: str):
    """Re-evaluate a classified use case with its latest answers and current facts.

    Returns the new Classification, or None when the use case was never classified
    or its stored answers no longer fit the questionnaire (it is logged and left
    for its owners to re-answer).
    """
    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        latest = classification_latest(use_case=use_case)
        if latest is None:
            return None
        try:
            return _classify(use_case=use_case, answers=latest.answers, by=by, note=note)
        except ValidationError as exc:
            logger.warning("Use case %s needs re-answering: %s", use_case.pk, exc)
            return None


def use_cases_reclassify(*, by: User | None, note: str, only_stale: bool = False) -> dict:
    """Re-evaluate every classified use case under the current rules.

    With ``only_stale``, only those classified under a different rule set. Each
    use case is its own transaction, so one bad answer set does not stop the rest.
    Returns counts: evaluated, changed, needs_answers.
    """
    fingerprint = risk_engine.fingerprint(risk_rules_as_engine())
    counts = {"evaluated": 0, "changed": 0, "needs_answers": 0}
    for use_case in UseCase.objects.filter(classifications__isnull=False).distinct():
        if only_stale:
            latest = classification_latest(use_case=use_case)
            if latest is None or latest.rules_fingerprint == fingerprint:
                continue
        result = classification_refresh(use_case=use_case, by=by, note=note)
        if result is None:
            counts["needs_answers"] += 1
            continue
        counts["evaluated"] += 1
        counts["changed"] += int(result.changed)
    return counts


def risk_rules_changed(*, by: User) -> None:
    """Record that the rules changed; every classified use case is re-evaluated by a
    worker after the transaction commits."""
    from governance.tasks import use_cases_reclassify as use_cases_reclassify_task

    transaction.on_commit(
        lambda: use_cases_reclassify_task.delay(
            by_id=by.pk, note=f"Re-evaluated after a rule change by {by.get_username()}."
        )
    )
