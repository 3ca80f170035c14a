"""Celery tasks of experiments. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings

from accounts.task_retry import DB_RETRY
from notifications.jobs import job_run

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


@shared_task(name="reviews.tasks.experiments_check", **DB_RETRY)
def experiments_check() -> dict:
    """Scheduled: end experiments at their planned sample size or date (the owner is
    e-mailed) and queue the analyses that are due (the end, or an interim look)."""
    from experiments.services import experiments_check as run

    outcome = run()
    for pk in outcome["analyse"]:
        experiment_analyse.delay(experiment_id=pk)
    return outcome


@shared_task(name="reviews.tasks.experiment_analyse", **DB_RETRY)
def experiment_analyse(*, experiment_id: int) -> dict:
    """Data-quality checks, then the pre-registered test; idempotent, one run at a time
    per experiment (``experiments_check`` queues again the analyses still due)."""
    from experiments.services import experiment_analyse as run

    outcome = job_run(
        task=experiment_analyse.name,
        key=experiment_id,
        seconds=settings.CELERY_TASK_TIME_LIMIT + 60,
        kwargs={"experiment_id": experiment_id},
        run=lambda: run(experiment_id=experiment_id),
        resend=False,  # experiments_check queues the analyses still due
    )
    return {"skipped": "running elsewhere"} if outcome is None else outcome
