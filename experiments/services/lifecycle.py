"""The life of a started experiment: abandoned with a reason; ended at the later of its
planned end date and its planned sample size (issue 14), by the write that completes it
(``end_if_due``, the analysis queued at once), by a task scheduled at the planned end
(``experiment_end_check``), by the owner asking for the analysis once
the end has passed (``experiment_analysis_request``) or, as the safety net, by the
scheduled check (``experiments_check``, which also lists the analyses due)."""

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
from notifications.jobs import enqueue
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


def end_due(experiment: Experiment, acc: sel.Accrual, now: datetime) -> bool:
    """The test ends at the later of its planned end date and its planned sample size
    (issue 14: a fixed duration, whole weeks, respected; no end on day 0). A legacy
    experiment with no end date ends at its sample size."""
    if not acc.complete:
        return False
    return experiment.planned_end is None or now >= experiment.planned_end


END_REASON = "the planned end date and the planned sample size were both reached"


def experiments_check(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Scheduled (the safety net): end the running experiments whose end is due
    (``end_due``, e-mailing the owner), and list those due for an analysis (ended, or
    at an interim look). Idempotent."""
    now = now or timezone.now()
    ended, analyse = [], []
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING).order_by("pk"):
        acc = sel.accrual(experiment, now=now)
        if end_due(experiment, acc, now):
            if experiment_end(experiment=experiment, reason=END_REASON, now=now):
                ended.append(experiment.pk)
            analyse.append(experiment.pk)
            continue
        if acc.health.get("mismatch"):
            accrual_srm_warn(experiment)
        look = sel.next_look(experiment)
        if look is not None and acc.fraction >= look[1]:
            analyse.append(experiment.pk)
    analyse += list(
        Experiment.objects.filter(status=Experiment.Status.ENDED)
        .exclude(pk__in=analyse)
        .values_list("pk", flat=True)
    )
    return {"ended": ended, "analyse": analyse}


def accrual_srm_warn(experiment: Experiment) -> bool:
    """E-mail the owner once (the outbox's key) when the units accrued so far show a
    sample-ratio mismatch while the test runs (issue 14). Returns whether it warned."""
    if experiment.status != Experiment.Status.RUNNING:
        return False
    health = sel.accrual_health(experiment)
    if not health.get("mismatch"):
        return False
    notify_owner(
        experiment,
        kind=Notification.Kind.EXPERIMENT_ACCRUAL_SRM,
        context={"verdict": health["verdict"], "units": health["units"]},
    )
    return True


def end_if_due(experiment: Experiment, *, now: datetime | None = None) -> bool:
    """End a running experiment now if its end is due and queue its analysis at once
    (issue 14: the analysis starts as soon as the test ends, not at the next beat).
    Called in the transaction of the write that may complete it (an outcomes batch)."""
    now = now or timezone.now()
    if experiment.status != Experiment.Status.RUNNING:
        return False
    if not end_due(experiment, sel.accrual(experiment, now=now), now):
        return False
    experiment_end(experiment=experiment, reason=END_REASON, now=now)
    _queue_analysis(experiment)
    return True


@transaction.atomic
def experiment_end_check(*, experiment_id: int, now: datetime | None = None) -> dict:
    """The task scheduled at an experiment's planned end (``schedule_end_check``): end it
    and queue its analysis if the end is due, at once rather than at the next beat run.
    If the sample size is not reached yet, the outcomes batch that completes it ends the
    test (``end_if_due``). Idempotent."""
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    if experiment is None:
        return {"experiment": experiment_id, "done": "no such experiment"}
    if end_if_due(experiment, now=now):
        return {"experiment": experiment_id, "done": "ended; analysis queued"}
    return {"experiment": experiment_id, "done": f"not due ({experiment.status})"}


def schedule_end_check(experiment: Experiment) -> None:
    """Schedule ``experiment_end_check`` for the planned end (the outbox publishes it then;
    the scheduled ``experiments_check`` stays the safety net). In the start's transaction."""
    from experiments.tasks import experiment_end_check as task

    if experiment.planned_end is not None:
        enqueue(task, kwargs={"experiment_id": experiment.pk}, not_before=experiment.planned_end)


def _queue_analysis(experiment: Experiment) -> None:
    from experiments.tasks import experiment_analyse as experiment_analyse_task

    enqueue(experiment_analyse_task, kwargs={"experiment_id": experiment.pk})


def analysis_request_refusal(experiment: Experiment, *, now: datetime | None = None) -> str:
    """Why the owner cannot ask for the analysis now ('' when they can)."""
    now = now or timezone.now()
    if experiment.status == Experiment.Status.ENDED:
        return ""
    if experiment.status != Experiment.Status.RUNNING:
        return f"The experiment is {experiment.get_status_display().lower()}."
    acc = sel.accrual(experiment, now=now)
    if end_due(experiment, acc, now):
        return ""
    parts = []
    if experiment.planned_end and now < experiment.planned_end:
        parts.append(f"its planned end is {experiment.planned_end:%Y-%m-%d %H:%M} UTC")
    if not acc.complete:
        got = ", ".join(f"{k} {acc.observed.get(k, 0):,}/{v:,}" for k, v in acc.planned.items())
        parts.append(f"the planned sample size is not reached ({got})")
    return (
        "The test has not ended: " + " and ".join(parts) + ". Looking early is how results "
        "get cherry-picked."
    )


@transaction.atomic
def experiment_analysis_request(*, experiment: Experiment, by: User) -> Experiment:
    """The owner (or anyone who runs it) asks for the analysis once the test has ended
    (issue 14: nobody waits for the next beat run). Raises PermissionDenied, or
    ValidationError coded CONFLICT before the end (nothing written). Ends a running
    experiment whose end is due, then queues the analysis (idempotent: one job per
    experiment)."""
    experiment = _locked(experiment)
    _require_run(by, experiment.use_case)
    why = analysis_request_refusal(experiment)
    if why:
        raise ValidationError(why, code=CONFLICT)
    if experiment.status == Experiment.Status.RUNNING:
        experiment_end(experiment=experiment, reason=END_REASON)
    _audit("experiment.analysis_requested", experiment, by=by, reason="analysis requested")
    _queue_analysis(experiment)
    return experiment


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
