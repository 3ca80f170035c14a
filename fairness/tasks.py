"""Celery tasks of bias summaries. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings

from accounts.task_retry import DB_RETRY
from notifications.jobs import OutboxTask, enqueue

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


def _own_queue(task) -> str | None:
    """The queue this task came from when it is not one of the installation's queues
    (a test's private queue), so that its follow-ups go to the same workers; None on the
    installation's queues, where follow-ups are routed by name (``CELERY_TASK_ROUTES``:
    the light sweep sends summaries to the heavy queue)."""
    info = getattr(task.request, "delivery_info", None) or {}
    queue = info.get("routing_key") or None
    standard = {settings.CELERY_HEAVY_QUEUE, settings.CELERY_LIGHT_QUEUE}
    return None if queue in standard | {settings.CELERY_LEGACY_QUEUE} else queue


@shared_task(
    bind=True,
    name="reviews.tasks.bias_summary_run",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["summary_id"],
    soft_time_limit=settings.BIAS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.BIAS_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def bias_summary_run(self, *, summary_id: int) -> dict:
    """Compute a bias summary; a large Parquet file fans out into one task per share.
    One run at a time per summary (its outbox row, notifications/jobs.py)."""
    from fairness.services import bias_summary_run as run

    outcome = run(summary_id=summary_id, task_id=self.request.id or "", leased=True)
    for partial_id in outcome.pop("parts", []):
        enqueue(bias_part_run, kwargs={"partial_id": partial_id}, queue=_own_queue(self))
    return outcome


@shared_task(
    bind=True,
    name="reviews.tasks.bias_part_run",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["partial_id"],
    soft_time_limit=settings.BIAS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.BIAS_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def bias_part_run(self, *, partial_id: int) -> dict:
    """Compute one share of a split bias summary; the last one merges and saves."""
    from fairness.services import bias_part_run as run

    return run(partial_id=partial_id, worker=self.request.hostname or "")


@shared_task(bind=True, name="reviews.tasks.bias_summaries_resume", **DB_RETRY)
def bias_summaries_resume(self, *, minutes: int | None = None) -> int:
    """Scheduled: queue again the summaries (or shares) whose task was lost."""
    from fairness.services import bias_summaries_stale

    todo = bias_summaries_stale(minutes=minutes)
    for item in todo:
        if "partial" in item:
            enqueue(bias_part_run, kwargs={"partial_id": item["partial"]}, queue=_own_queue(self))
        else:
            enqueue(
                bias_summary_run, kwargs={"summary_id": item["summary"]}, queue=_own_queue(self)
            )
    return len(todo)


@shared_task(
    name="fairness.tasks.scored_dataset_validate",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["dataset_id"],
    soft_time_limit=settings.BIAS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.BIAS_TASK_TIME_LIMIT,
    **DB_RETRY,
)
def scored_dataset_validate(*, dataset_id: int) -> dict:
    """Validate a quarantined upload, every row once, then publish or reject it (heavy
    queue); one run at a time per dataset (its outbox row, notifications/jobs.py)."""
    from fairness.services import scored_dataset_validate as run

    return run(dataset_id=dataset_id)
