"""Celery tasks of the sign-off workflow. Thin: load ids, call a service."""

import smtplib

from celery import shared_task
from django.conf import settings

from reviews.services import notifications


@shared_task(
    name="reviews.tasks.notification_send",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=8,
)
def notification_send(*, notification_id: int) -> str:
    """Send one queued e-mail exactly once; SMTP failures retry with backoff."""
    return notifications.notification_send(notification_id=notification_id)


@shared_task(name="reviews.tasks.notifications_flush")
def notifications_flush() -> int:
    """Scheduled: send e-mails whose task was lost or gave up (still exactly once)."""
    ids = list(notifications.unsent().values_list("pk", flat=True)[:500])
    for pk in ids:
        notification_send.delay(notification_id=pk)
    return len(ids)


@shared_task(name="reviews.tasks.approvals_remind")
def approvals_remind() -> dict:
    """Scheduled: remind signers of requests pending for N days, escalate after M."""
    from reviews.services.reminders import approvals_remind as run

    return run(
        reminder_days=settings.APPROVAL_REMINDER_DAYS,
        escalation_days=settings.APPROVAL_ESCALATION_DAYS,
    )


@shared_task(name="reviews.tasks.periodic_reviews_flag")
def periodic_reviews_flag() -> dict:
    """Scheduled: flag versions in production past their periodic review."""
    from reviews.services.reminders import periodic_reviews_flag as run

    return run()


# --- Bias summaries (issue #5) ------------------------------------------------------------


def _own_queue(task) -> str | None:
    """The queue this task came from, so that its follow-ups go to the same workers."""
    info = getattr(task.request, "delivery_info", None) or {}
    return info.get("routing_key") or None


@shared_task(
    bind=True,
    name="reviews.tasks.bias_summary_run",
    soft_time_limit=settings.BIAS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.BIAS_TASK_TIME_LIMIT,
)
def bias_summary_run(self, *, summary_id: int) -> dict:
    """Compute a bias summary; a large Parquet file fans out into one task per share."""
    from reviews.services.bias import bias_summary_run as run

    outcome = run(summary_id=summary_id, task_id=self.request.id or "")
    for partial_id in outcome.pop("parts", []):
        bias_part_run.apply_async(kwargs={"partial_id": partial_id}, queue=_own_queue(self))
    return outcome


@shared_task(
    bind=True,
    name="reviews.tasks.bias_part_run",
    soft_time_limit=settings.BIAS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.BIAS_TASK_TIME_LIMIT,
)
def bias_part_run(self, *, partial_id: int) -> dict:
    """Compute one share of a split bias summary; the last one merges and saves."""
    from reviews.services.bias import bias_part_run as run

    return run(partial_id=partial_id, worker=self.request.hostname or "")


@shared_task(bind=True, name="reviews.tasks.bias_summaries_resume")
def bias_summaries_resume(self, *, minutes: int | None = None) -> int:
    """Scheduled: queue again the summaries (or shares) whose task was lost."""
    from reviews.services.bias import bias_summaries_stale

    todo = bias_summaries_stale(minutes=minutes)
    for item in todo:
        if "partial" in item:
            bias_part_run.apply_async(
                kwargs={"partial_id": item["partial"]}, queue=_own_queue(self)
            )
        else:
            bias_summary_run.apply_async(
                kwargs={"summary_id": item["summary"]}, queue=_own_queue(self)
            )
    return len(todo)


# --- Experiments (issue #7) ----------------------------------------------------------------


@shared_task(name="reviews.tasks.experiments_check")
def experiments_check() -> dict:
    """Scheduled: end experiments at their planned sample size or date (the owner is
    e-mailed) and queue the analyses that are due (the end, or an interim look)."""
    from reviews.services.experiments import experiments_check as run

    outcome = run()
    for pk in outcome["analyse"]:
        experiment_analyse.delay(experiment_id=pk)
    return outcome


@shared_task(name="reviews.tasks.experiment_analyse")
def experiment_analyse(*, experiment_id: int) -> dict:
    """Data-quality checks, then the pre-registered test; idempotent."""
    from reviews.services.experiments import experiment_analyse as run

    return run(experiment_id=experiment_id)


@shared_task(
    name="reviews.tasks.experiment_notification_send",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=8,
)
def experiment_notification_send(*, notification_id: int) -> str:
    """Kept for messages queued under this name: the shared outbox sender."""
    return notifications.notification_send(notification_id=notification_id)


# --- Monitoring (issue #6) -----------------------------------------------------------------


@shared_task(
    name="reviews.tasks.monitoring_compute",
    soft_time_limit=settings.MONITORING_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MONITORING_TASK_TIME_LIMIT,
)
def monitoring_compute(*, config_id: int) -> dict:
    """Compute (or recompute) every complete window of a monitoring configuration."""
    from reviews.services.monitoring import monitoring_compute as run

    outcome = run(config_id=config_id)
    return {k: outcome.get(k) for k in ("windows", "failed", "alerts_opened", "error")}


@shared_task(name="reviews.tasks.monitoring_due")
def monitoring_due() -> int:
    """Scheduled: compute the configurations with a window due (daily or weekly, as each
    use case's obligations demand) or new data."""
    from reviews.services.monitoring import monitoring_configs_due

    due = monitoring_configs_due()
    for pk in due:
        monitoring_compute.delay(config_id=pk)
    return len(due)


@shared_task(
    name="reviews.tasks.drift_alert_notification_send",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=8,
)
def drift_alert_notification_send(*, notification_id: int) -> str:
    """Kept for messages queued under this name: the shared outbox sender."""
    return notifications.notification_send(notification_id=notification_id)
