"""Celery tasks of the outbox. Thin: load ids, call a service."""

import smtplib

from celery import shared_task

from accounts.task_retry import DB_RETRY, retry_options
from notifications import services
from notifications.jobs import OutboxTask, enqueue

# Task names are wire names: kept from before the outbox had an app of its own, so that
# messages already queued and the beat schedule still resolve.


# SMTP failures retry with backoff; the claim in the service keeps it exactly once.
# Transient database errors retry the same way (accounts/task_retry.py).
SEND_OPTIONS = {
    **retry_options(smtplib.SMTPException, OSError, retry_backoff_max=600, retry_jitter=False),
    "base": OutboxTask,
    "job_key": lambda kwargs: kwargs["notification_id"],
}


@shared_task(name="reviews.tasks.notification_send", **SEND_OPTIONS)
def notification_send(*, notification_id: int) -> str:
    """Send one queued e-mail exactly once; SMTP failures retry with backoff."""
    return services.notification_send(notification_id=notification_id)


# Names experiments and drift alerts once queued their e-mails under: messages still
# waiting under them are sent by the same sender.
for _legacy in (
    "reviews.tasks.experiment_notification_send",
    "reviews.tasks.drift_alert_notification_send",
):
    shared_task(name=_legacy, **SEND_OPTIONS)(notification_send.run)


@shared_task(name="reviews.tasks.notifications_flush", **DB_RETRY)
def notifications_flush() -> int:
    """Scheduled: send e-mails whose task was lost or gave up (still exactly once)."""
    ids = list(services.notifications_unsent().values_list("pk", flat=True)[:500])
    for pk in ids:
        enqueue(notification_send, kwargs={"notification_id": pk})
    return len(ids)


@shared_task(name="notifications.tasks.jobs_sweep", **DB_RETRY)
def jobs_sweep(*, minutes: float | None = None) -> dict:
    """Scheduled safety net of every job kind (the task outbox, notifications/jobs.py):
    publish the work never published (the broker was down), whose run died or whose
    message was lost (not taken ``minutes`` after publication)."""
    from datetime import timedelta

    from notifications.jobs import jobs_sweep_run

    return jobs_sweep_run(resend=None if minutes is None else timedelta(minutes=minutes))
