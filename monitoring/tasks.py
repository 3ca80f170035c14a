"""Celery tasks of monitoring. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings

from accounts.task_retry import DB_RETRY
from notifications.jobs import OutboxTask, enqueue

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


@shared_task(
    name="reviews.tasks.monitoring_compute",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["config_id"],
    soft_time_limit=settings.MONITORING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MONITORING_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def monitoring_compute(*, config_id: int) -> dict:
    """Compute (or recompute) every complete window of a monitoring configuration; one
    run at a time per configuration (its outbox row, notifications/jobs.py)."""
    from monitoring.services import monitoring_compute as run

    outcome = run(config_id=config_id)
    return {k: outcome.get(k) for k in ("windows", "failed", "alerts_opened", "error")}


@shared_task(
    name="monitoring.tasks.reference_profile_build",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["profile_id"],
    soft_time_limit=settings.MONITORING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MONITORING_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def reference_profile_build(*, profile_id: int) -> dict:
    """Build a reference profile asked for by a configuration (heavy queue); then its
    configurations' floors are set and their windows queued."""
    from monitoring.services import reference_profile_build as run

    return run(profile_id=profile_id)


@shared_task(
    name="monitoring.tasks.monitoring_batch_validate",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["dataset_id"],
    soft_time_limit=settings.MONITORING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MONITORING_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def monitoring_batch_validate(*, dataset_id: int) -> dict:
    """Validate a quarantined production batch or outcomes file, every row once, then
    publish it (its windows queued) or reject it (heavy queue); one run at a time per
    file (its outbox row, notifications/jobs.py)."""
    from monitoring.services.batch_validation import monitoring_batch_validate as run

    return run(dataset_id=dataset_id)


@shared_task(name="reviews.tasks.monitoring_due", **DB_RETRY)
def monitoring_due() -> int:
    """Scheduled: compute the configurations with a window due (daily or weekly, as each
    use case's obligations demand) or new data."""
    from monitoring.services import monitoring_configs_due

    due = monitoring_configs_due()
    for pk in due:
        enqueue(monitoring_compute, kwargs={"config_id": pk})
    return len(due)
