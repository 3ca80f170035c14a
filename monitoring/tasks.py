"""Celery tasks of monitoring. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings

from accounts.task_retry import DB_RETRY
from notifications.jobs import job_run, job_wanted

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


@shared_task(
    name="reviews.tasks.monitoring_compute",
    soft_time_limit=settings.MONITORING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MONITORING_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def monitoring_compute(*, config_id: int) -> dict:
    """Compute (or recompute) every complete window of a monitoring configuration; one
    run at a time per configuration, its "wanted" marker the safety net of a lost message."""
    from monitoring.services import monitoring_compute as run

    outcome = job_run(
        task=monitoring_compute.name,
        key=config_id,
        seconds=settings.MONITORING_TASK_TIME_LIMIT + 60,
        kwargs={"config_id": config_id},
        run=lambda: run(config_id=config_id),
    )
    if outcome is None:
        return {"skipped": "running elsewhere"}
    return {k: outcome.get(k) for k in ("windows", "failed", "alerts_opened", "error")}


@shared_task(name="reviews.tasks.monitoring_due", **DB_RETRY)
def monitoring_due() -> int:
    """Scheduled: compute the configurations with a window due (daily or weekly, as each
    use case's obligations demand) or new data."""
    from monitoring.services import monitoring_configs_due

    due = monitoring_configs_due()
    for pk in due:
        job_wanted(task=monitoring_compute.name, key=pk, kwargs={"config_id": pk})
        monitoring_compute.delay(config_id=pk)
    return len(due)
