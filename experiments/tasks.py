"""Celery tasks of experiments. Thin: load ids, call a service."""

from celery import shared_task

from accounts.task_retry import DB_RETRY
from notifications.jobs import OutboxTask, enqueue

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


@shared_task(name="reviews.tasks.experiments_check", **DB_RETRY)
def experiments_check() -> dict:
    """Scheduled: end experiments at their planned sample size or date (the owner is
    e-mailed) and queue the analyses that are due (the end, or an interim look)."""
    from experiments.services import experiments_check as run

    outcome = run()
    for pk in outcome["analyse"]:
        enqueue(experiment_analyse, kwargs={"experiment_id": pk})
    return outcome


@shared_task(
    name="reviews.tasks.experiment_analyse",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["experiment_id"],
    **DB_RETRY,
)
def experiment_analyse(*, experiment_id: int) -> dict:
    """Data-quality checks, then the pre-registered test; idempotent, one run at a time
    per experiment (its outbox row, notifications/jobs.py)."""
    from experiments.services import experiment_analyse as run

    return run(experiment_id=experiment_id)


@shared_task(
    name="experiments.tasks.experiment_end_check",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["experiment_id"],
    **DB_RETRY,
)
def experiment_end_check(*, experiment_id: int) -> dict:
    """Published at the experiment's planned end (scheduled at its start through the
    outbox): end it and queue the analysis if the end is due."""
    from experiments.services import experiment_end_check as run

    return run(experiment_id=experiment_id)
