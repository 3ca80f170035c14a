"""Celery tasks of the outbox. Thin: load ids, call a service."""

import smtplib

from celery import shared_task

from accounts.task_retry import DB_RETRY, retry_options
from notifications import services

# Task names are wire names: kept from before the outbox had an app of its own, so that
# messages already queued and the beat schedule still resolve.


# SMTP failures retry with backoff; the claim in the service keeps it exactly once.
# Transient database errors retry the same way (accounts/task_retry.py).
SEND_OPTIONS = retry_options(
    smtplib.SMTPException, OSError, retry_backoff_max=600, retry_jitter=False
)


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
        notification_send.delay(notification_id=pk)
    return len(ids)


@shared_task(name="notifications.tasks.jobs_sweep", **DB_RETRY)
def jobs_sweep(*, minutes: float | None = None) -> int:
    """Scheduled safety net: send again the wanted work whose message was lost (job
    markers nobody holds, last sent ``minutes`` ago)."""
    from datetime import timedelta

    from django.conf import settings

    from notifications.jobs import jobs_resend, send_task

    minutes = settings.JOBS_RESEND_MINUTES if minutes is None else minutes
    todo = jobs_resend(older_than=timedelta(minutes=minutes))
    for task, kwargs in todo:
        send_task(task, kwargs)
    return len(todo)
