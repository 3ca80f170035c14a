"""Step 2 applied: a use case's ethics answers against the organisation's approved
position (``core.ethics_rules.deviations``).

A deviation opens an ``EthicsDeviation`` owned by the use case's RACI Accountable of
model acceptance (the second line who accepts the model, who must now judge it).
It is a governance-level record, not an obligation (obligations are the policy
matrix's measures, one per consideration, re-derived from the policy and superseded
when the policy does not ask for them) and not a ``reviews.Finding`` (findings belong
to a model version, in a layer above this one; a deviation is about the use case's
purpose, whatever version runs it). Re-answering within tolerance, or a new position,
closes it (never deletes it); every open and close is in the audit trail.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_context
from core import ethics_rules, obligation_rules
from governance.models import EthicsAnswerSet, EthicsDeviation
from governance.selectors.ethics import (
    ethics_position_current,
    ethics_questions_as_rules,
    ethics_use_case_latest,
)
from governance.selectors.raci import raci_accountable_for
from inventory.models import UseCase

ACCEPTANCE_TASK = obligation_rules.DEFAULT_TASK  # "model-acceptance"


def ethics_deviations_found(*, use_case: UseCase) -> list[ethics_rules.Deviation]:
    """The deviations of the use case's latest answers from the current position."""
    position = ethics_position_current()
    latest = ethics_use_case_latest(use_case=use_case)
    if position is None or latest is None:
        return []
    tolerance = position.tolerance
    return ethics_rules.deviations(
        ethics_questions_as_rules(version=position.version),
        position.answers,
        ethics_questions_as_rules(version=latest.version),
        latest.answers,
        tolerance=ethics_rules.DEFAULT_TOLERANCE if tolerance is None else tolerance,
    )


def _close(row: EthicsDeviation, *, trigger: EthicsAnswerSet | None, reason: str, now) -> None:
    row.closed_at = now
    row.closed_by_answers = trigger
    row.close_reason = reason[:500]
    row.full_clean()
    row.save(update_fields=["closed_at", "closed_by_answers", "close_reason"])


@transaction.atomic
def ethics_deviations_refresh(
    *, use_case: UseCase, by: User | None, trigger: EthicsAnswerSet | None = None
) -> dict:
    """Open a deviation for each new shortfall, close those no longer found (or
    changed: closed and opened again with the new values). Idempotent: a second run
    writes nothing. Returns counts: opened, closed."""
    with audit_context(actor=by, reason="The organisation's ethical position applied."):
        return _refresh(use_case=use_case, trigger=trigger)


def _refresh(*, use_case: UseCase, trigger: EthicsAnswerSet | None) -> dict:
    found = {d.code: d for d in ethics_deviations_found(use_case=use_case)}
    open_rows = {
        row.code: row
        for row in EthicsDeviation.objects.select_for_update().filter(
            use_case=use_case, closed_at=None
        )
    }
    position = ethics_position_current()
    latest = ethics_use_case_latest(use_case=use_case)
    now = timezone.now()
    counts = {"opened": 0, "closed": 0}
    for code, row in open_rows.items():
        new = found.get(code)
        if new is not None and (new.position_value, new.use_case_value) == (
            row.position_value,
            row.use_case_value,
        ):
            found.pop(code)
            continue
        why = (
            "Answered within the organisation's position."
            if new is None
            else f"Restated: {new.message}"
        )
        _close(row, trigger=trigger or latest, reason=why, now=now)
        counts["closed"] += 1
    if found:
        owners = raci_accountable_for(use_case=use_case, task_code=ACCEPTANCE_TASK)
        for deviation in found.values():
            row = EthicsDeviation(
                use_case=use_case,
                code=deviation.code,
                kind=deviation.kind,
                message=deviation.message[:500],
                position_value=deviation.position_value,
                use_case_value=deviation.use_case_value,
                opened_by_answers=latest,
                position=position,
                owner=owners[0] if owners else None,
                opened_at=now,
            )
            row.full_clean()
            row.save()
            counts["opened"] += 1
    return counts


def ethics_deviations_refresh_all(*, by: User | None) -> dict:
    """Refresh every use case that has ethics answers (after a new position). Each
    use case is its own transaction."""
    totals = {"opened": 0, "closed": 0}
    ids = (
        EthicsAnswerSet.objects.exclude(use_case=None).values_list("use_case", flat=True).distinct()
    )
    for use_case in UseCase.objects.filter(pk__in=list(ids)):
        counts = ethics_deviations_refresh(use_case=use_case, by=by)
        totals = {k: totals[k] + counts[k] for k in totals}
    return totals
