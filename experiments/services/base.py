"""What every experiment service shares: the limits, the audit record of a write, the
row lock taken before a write and the permission to run a use case's experiments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from audit.services import audit_record
from core.experiment_outcomes import MAX_CSV_BYTES as MAX_CSV_BYTES
from core.experiment_outcomes import MAX_ROW_ERRORS as MAX_ROW_ERRORS
from core.experiment_outcomes import MAX_ROWS
from core.experiment_stats.planning import MAX_PLANNED_DAYS as MAX_PLANNED_DAYS
from core.experiment_stats.planning import MAX_PLANNED_UNITS as MAX_PLANNED_UNITS
from core.experiment_stats.planning import PROTOCOL_INPUT_FIELDS as PROTOCOL_INPUT_FIELDS
from experiments import permissions
from experiments.models import Experiment
from inventory.models import UseCase

EVIDENCE_CONSIDERATION = "preproduction-verification"
MAX_BATCH_ROWS = MAX_ROWS  # rows per batch, by API or in one CSV file
# Kept from before the split (no experiment service reads it; the shared outbox in
# reviews has its own claim timeout).
CLAIM_TIMEOUT = timedelta(minutes=10)


def _audit(action: str, obj, *, by: User | None, reason: str = "", **changes: Any) -> None:
    audit_record(
        action=action,
        obj=obj,
        actor=by,
        reason=reason,
        changes={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
        parent=getattr(obj, "use_case", None),
    )


def _locked(experiment: Experiment) -> Experiment:
    return (
        Experiment.objects.select_for_update()
        .select_related("use_case", "champion", "challenger", "owner")
        .get(pk=experiment.pk)
    )


def _require_run(user: User, use_case: UseCase) -> None:
    if not permissions.can_run_experiment(user, use_case):
        raise PermissionDenied(
            "Only the use case's data scientists and governance leads run its experiments."
        )
