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

from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import SECOND_LINE
from accounts.sso.signing import Credential
from audit.services import audit_context, audit_record
from core import ethics_rules, obligation_rules
from governance.models import EthicsAnswerSet, EthicsDeviation, EthicsDeviationAcceptance
from governance.selectors.ethics import (
    ethics_position_current,
    ethics_questions_as_rules,
    ethics_use_case_latest,
)
from governance.selectors.raci import raci_accountable_for
from governance.services.signing import (
    password_reconfirm,
    printed_name,
    reauthentication_record,
)
from inventory.models import UseCase

ACCEPTANCE_TASK = obligation_rules.DEFAULT_TASK  # "model-acceptance"
# An acceptance is a judgement for a time: at most a year, then it is looked at again.
ACCEPTANCE_MAX_DAYS = 365


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


# --- the Accountable's judgement ------------------------------------------------------


def _acceptance_refusal(deviation: EthicsDeviation, by: User) -> str | None:
    """Why ``by`` may not accept ``deviation``, or None."""
    use_case = deviation.use_case
    if not has_role(by, *SECOND_LINE):
        return "Only the second line (the Accountable of model acceptance) can accept a deviation."
    if use_case.team_id and use_case.team.members.filter(pk=by.pk).exists():
        return "You are in the team that develops this use case; the second line judges it."
    if by not in raci_accountable_for(use_case=use_case, task_code=ACCEPTANCE_TASK):
        return (
            "Only the use case's Accountable of model acceptance can accept its ethics deviations."
        )
    return None


def _check_acceptance(deviation: EthicsDeviation, reason: str, expires_on: date) -> str:
    if not deviation.is_open:
        raise ValidationError("This deviation is closed; there is nothing to accept.")
    if deviation.kind == ethics_rules.PROHIBITED:
        raise ValidationError(
            "A declared prohibited harm cannot be accepted: change the use case and answer "
            "the ethics questions again."
        )
    reason = (reason or "").strip()
    if len(reason) < 20:
        raise ValidationError(
            {"reason": "Say why the deviation is acceptable (20 characters or more)."}
        )
    today = timezone.localdate()
    if expires_on <= today or expires_on > today + timedelta(days=ACCEPTANCE_MAX_DAYS):
        ahead = f"at most {ACCEPTANCE_MAX_DAYS} days ahead"
        raise ValidationError({"expires_on": f"Give an expiry after today and {ahead}."})
    return reason


def ethics_deviation_accept(
    *,
    deviation: EthicsDeviation,
    by: User,
    reason: str,
    expires_on: date,
    password: Credential,
    via_token: bool = False,
) -> EthicsDeviationAcceptance:
    """The Accountable of model acceptance (second line, outside the developing team)
    judges an open deviation acceptable until ``expires_on``: a signed act (password
    typed again; an API token never signs). A prohibited harm cannot be accepted.

    Raises PermissionDenied (audited as ``ethics.deviation_accept_refused``) for anyone
    else; ValidationError for a closed deviation, a prohibited harm, a missing reason,
    a bad expiry or a wrong password (that refusal audited too)."""
    why = (
        "An API token cannot sign: sign in the browser and re-enter your password."
        if via_token
        else _acceptance_refusal(deviation, by)
    )
    if why:
        audit_record(
            action="ethics.deviation_accept_refused",
            actor=by,
            object_type="governance.ethicsdeviation",
            object_id=str(deviation.pk),
            object_repr=str(deviation)[:200],
            reason=why,
        )
        raise PermissionDenied(why)
    reason = _check_acceptance(deviation, reason, expires_on)
    reauth = password_reconfirm(
        user=by,
        password=password,
        what=f"accept ethics deviation #{deviation.pk}",
        fields={"reason": reason, "expires_on": expires_on},
    )
    with transaction.atomic():
        row = EthicsDeviation.objects.select_for_update().get(pk=deviation.pk)
        if not row.is_open:
            raise ValidationError("The deviation was closed meanwhile; look again.")
        acceptance = EthicsDeviationAcceptance(
            deviation=row,
            accepted_by=by,
            printed_name=printed_name(by),
            reason=reason[:2000],
            accepted_at=timezone.now(),
            expires_on=expires_on,
        )
        acceptance.full_clean()
        with audit_context(actor=by, reason=reason[:500]):
            acceptance.save()
        reauthentication_record(reauth, obj=row, by=by, signature=acceptance.pk)
    return acceptance
