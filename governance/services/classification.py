"""Writes of the governance framework: classifying use cases."""

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import Role
from accounts.sso.signing import Credential
from audit.services import audit_context, audit_record
from core import classification_facts, risk_engine
from governance.models import Classification, ClassificationConfirmation, RiskQuestion
from governance.selectors import (
    classification_latest,
    ethics_critical_aspects_for,
    risk_question_list,
    risk_questions_as_engine,
    risk_rules_as_engine,
)
from governance.selectors.classification import (
    classification_confirmation_for,
    classification_contradictions,
    classification_downgrade_pending,
    classification_needs_confirmation,
    question_option_labels,
)
from governance.services.signing import password_reconfirm, reauthentication_record
from inventory.models import Regulation, UseCase
from notifications.jobs import enqueue

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


def _own_answers(answers: dict[str, Any], questions: list) -> dict[str, Any]:
    asked = {q.code for q in risk_question_list().filter(source=RiskQuestion.Source.ANSWER)}
    known = {q.code for q in questions}
    return {k: v for k, v in answers.items() if k in asked or k not in known}


def _add_implied_regulations(
    *, use_case: UseCase, answers: dict[str, Any], by: User | None
) -> list[str]:
    """Regulations implied by the answers raise, never block: an Annex III area (the EU
    AI Act) and the sector and purpose (SR 11-7, PRA SS1/23 and SS3/18, GxP and 21 CFR
    Part 11, GDPR Art. 22; ``core.classification_facts.SECTOR_REGULATIONS``) that the
    use case does not declare are added to it (their requirements then set the
    obligations), each recorded in the audit trail with why. Returns the sentences
    that explain each addition (the classification's note carries them)."""
    declared = list(use_case.regulations.values_list("code", flat=True))
    implied = classification_facts.implied_regulations(
        answers,
        declared,
        question_option_labels(classification_facts.ANNEX_III_QUESTION),
        question_option_labels(classification_facts.SECTOR_QUESTION),
    )
    added = []
    for code, why in implied.items():
        regulation = Regulation.objects.filter(code=code).first()
        if regulation is not None:
            with audit_context(actor=by, reason=why):
                use_case.regulations.add(regulation)
            if why not in added:  # one sentence per answer, naming its regulations
                added.append(why)
    return added


def _classify(*, use_case: UseCase, answers: dict[str, Any], by: User | None, note: str):
    questions = risk_questions_as_engine()
    own = _own_answers(answers, questions)
    errors = risk_engine.validate_answers(questions, {**own, **use_case_facts(use_case)})
    if errors:
        raise ValidationError(errors)
    contradictions = classification_contradictions(use_case=use_case, answers=own)
    if contradictions:
        raise ValidationError({c.question: c.message for c in contradictions})
    added = _add_implied_regulations(use_case=use_case, answers=own, by=by)
    full = {**own, **use_case_facts(use_case)}
    rules = risk_rules_as_engine()
    result = risk_engine.evaluate(questions, rules, full)
    previous = classification_latest(use_case=use_case)
    # Issue 12: a lower tier than the one in effect waits for a risk officer's
    # confirmation; the tier in effect holds until then (the row records both).
    held = use_case.risk_tier is not None and result.tier < use_case.risk_tier
    if added:  # each also audited, with why
        note = " ".join([note, "Regulations implied by the answers and added:", *added]).strip()
    if held:
        note = (
            f"{note} (The lower tier waits for a risk officer's confirmation; the "
            f"{use_case.get_risk_tier_display()} tier holds until then.)"
        ).strip()
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
        note=note[:500],
    )
    classification.full_clean()
    classification.save()
    if not held:
        _class_take_effect(use_case, classification, by=by, reason=f"Classified: {note}")
    return classification


def _class_take_effect(use_case: UseCase, classification: Classification, *, by, reason: str):
    use_case.criticality = classification.criticality
    use_case.risk_tier = classification.risk_tier
    use_case.save(update_fields=["criticality", "risk_tier", "updated_at"])
    # Step 5: what the use case owes follows its class; recomputed after commit.
    from governance.services.obligations import obligations_recompute_later

    obligations_recompute_later(use_case=use_case, by=by, reason=reason)


def classification_submit(
    *, use_case: UseCase, answers: dict[str, Any], by: User, note: str = ""
) -> Classification:
    """Answer the Step 1 questionnaire for a use case and record its new class.

    Answers for questions read from the use case (regulations, PII) are taken from
    the use case, not from ``answers``. Raises ValidationError (keyed by question
    code) for a missing, unknown or invalid answer, and for answers the data
    contradicts (PII columns while "uses PII: no", an EU AI Act Article 5 practice);
    nothing is written then, except an audit event for a contradiction. Regulations
    the answers imply (an Annex III area: the EU AI Act; the sector and purpose: SR
    11-7, PRA SS1/23 and SS3/18, GxP and 21 CFR Part 11, GDPR Art. 22) and the use case
    omits are added to it, with why in the classification's note (they raise, never
    block).
    """
    contradictions = classification_contradictions(
        use_case=use_case, answers=_own_answers(answers, risk_questions_as_engine())
    )
    if contradictions:
        audit_record(
            action="classification.refused",
            obj=use_case,
            actor=by,
            reason=" ".join(c.message for c in contradictions),
            changes={"contradictions": [None, [c.code for c in contradictions]]},
        )
        raise ValidationError({c.question: c.message for c in contradictions})
    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        return _classify(
            use_case=use_case, answers=answers, by=by, note=note or "Questionnaire answered."
        )


def classification_confirm(
    *,
    use_case: UseCase,
    by: User,
    password: Credential,
    note: str = "",
    via_token: bool = False,
) -> ClassificationConfirmation:
    """A risk officer confirms the use case's current High or Critical classification,
    or a latest classification whose lower tier waits to apply (then the lower tier
    takes effect and the obligations follow) (a signed act: the password typed again;
    an API token never signs).

    Raises PermissionDenied for anyone but a risk officer, for the person who made
    the classification, for a token; ValidationError when there is nothing to confirm
    or the password is wrong (that refusal is audited). Writes one append-only row,
    audited as ``classification.confirmed``.
    """
    use_case = UseCase.objects.get(pk=use_case.pk)  # the tier in effect, not a stale copy
    try:
        if via_token:
            raise PermissionDenied(
                "An API token cannot confirm: sign in the browser and re-enter your password."
            )
        if not has_role(by, Role.RISK_OFFICER):
            raise PermissionDenied("Only a risk officer can confirm a classification.")
        latest = _confirmable(use_case, by)
    except PermissionDenied as exc:
        # A refused signing attempt leaves a trace, like a refused sign-off.
        audit_record(
            action="classification.confirm_refused",
            actor=by,
            object_type="inventory.usecase",
            object_id=str(use_case.pk),
            object_repr=str(use_case),
            reason=str(exc),
        )
        raise
    reauth = password_reconfirm(
        user=by,
        password=password,
        what=f"confirm the classification of use case #{use_case.pk}",
        refused_action="classification.password_refused",
        fields={"note": (note or "").strip()[:1000], "classification": latest.pk},
    )
    with transaction.atomic():
        use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
        if classification_latest(use_case=use_case) != latest:
            raise ValidationError("The use case was re-classified meanwhile; look again.")
        confirmation = ClassificationConfirmation(
            classification=latest,
            use_case=use_case,
            risk_tier=latest.risk_tier,
            confirmed_by=by,
            printed_name=by.get_full_name() or by.get_username(),
            confirmed_at=timezone.now(),
            note=(note or "").strip()[:1000],
        )
        confirmation.full_clean()
        with audit_context(actor=by):
            confirmation.save()
            if latest.risk_tier < (use_case.risk_tier or 0):
                # A held downgrade: the lower tier applies now that it is confirmed.
                _class_take_effect(
                    use_case,
                    latest,
                    by=by,
                    reason=f"Lower tier confirmed by {confirmation.printed_name}.",
                )
        reauthentication_record(reauth, obj=use_case, by=by, signature=confirmation.pk)
    return confirmation


def _confirmable(use_case: UseCase, by: User) -> Classification:
    latest = classification_latest(use_case=use_case)
    if latest is None:
        raise ValidationError("The use case is not classified yet; there is nothing to confirm.")
    if not (
        classification_needs_confirmation(use_case=use_case)
        or classification_downgrade_pending(use_case=use_case)
    ):
        raise ValidationError(
            "Only High and Critical classifications and lower tiers waiting to apply need "
            "a confirmation."
        )
    if latest.classified_by_id == by.pk:
        raise PermissionDenied(
            "You made this classification; another risk officer must confirm it."
        )
    if classification_confirmation_for(use_case=use_case) is not None:
        raise ValidationError("This classification is already confirmed.")
    problems = classification_contradictions(use_case=use_case, answers=latest.answers)
    if problems:
        raise ValidationError(" ".join(p.message for p in problems))
    return latest


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

    note = f"Re-evaluated after a rule change by {by.get_username()}."
    enqueue(use_cases_reclassify_task, kwargs={"by_id": by.pk, "note": note})
