"""The life of a started experiment: abandoned with a reason, ended by the scheduled
check at its planned sample size or date (``experiments_check``, which also lists the
analyses due), or ended by hand (``experiment_end``)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from experiments import selectors as sel
from experiments.models import Experiment
from experiments.services.base import _audit, _locked, _require_run
from experiments.services.emails import notify_owner
from notifications.models import Notification


@transaction.atomic
def experiment_abandon(*, experiment: Experiment, by: User, reason: str) -> Experiment:
    """Abandon a draft or a running experiment, with a reason (its data stay)."""
    experiment = _locked(experiment)
    _require_run(by, experiment.use_case)
    if experiment.status not in (Experiment.Status.DRAFT, Experiment.Status.RUNNING):
        raise ValidationError(
            f"An experiment that is {experiment.get_status_display().lower()} cannot be abandoned.",
            code=CONFLICT,
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the experiment is abandoned."})
    before = experiment.status
    experiment.status = Experiment.Status.ABANDONED
    experiment.abandoned_at = timezone.now()
    experiment.abandon_reason = reason
    experiment.updated_at = experiment.abandoned_at
    experiment.save(update_fields=["status", "abandoned_at", "abandon_reason", "updated_at"])
    _audit("experiment.abandoned", experiment, by=by, reason=reason, status=(before, "abandoned"))
    return experiment


# --- The end ------------------------------------------------------------------------------


def experiments_check(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Scheduled: end the running experiments that reached their planned sample size
    or end date (e-mailing the owner), and list those due for an analysis (ended, or
    at an interim look). Idempotent."""
    now = now or timezone.now()
    ended, analyse = [], []
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING).order_by("pk"):
        acc = sel.accrual(experiment, now=now)
        if acc.complete or (experiment.planned_end and now >= experiment.planned_end):
            why = (
                "the planned sample size was reached"
                if acc.complete
                else "the planned end date was reached"
            )
            if experiment_end(experiment=experiment, reason=why, now=now):
                ended.append(experiment.pk)
            analyse.append(experiment.pk)
            continue
        look = sel.next_look(experiment)
        if look is not None and acc.fraction >= look[1]:
            analyse.append(experiment.pk)
    analyse += list(
        Experiment.objects.filter(status=Experiment.Status.ENDED)
        .exclude(pk__in=analyse)
        .values_list("pk", flat=True)
    )
    return {"ended": ended, "analyse": analyse}


@transaction.atomic
def experiment_end(*, experiment: Experiment, reason: str, now: datetime | None = None) -> bool:
    """Mark a running experiment ended and e-mail its owner (once). Returns whether it
    changed anything."""
    experiment = _locked(experiment)
    if experiment.status != Experiment.Status.RUNNING:
        return False
    experiment.status = Experiment.Status.ENDED
    experiment.ended_at = now or timezone.now()
    experiment.end_reason = reason[:200]
    experiment.updated_at = experiment.ended_at
    experiment.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    _audit("experiment.ended", experiment, by=None, reason=reason, status=("running", "ended"))
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ENDED)
    return True
