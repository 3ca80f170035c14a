"""Celery tasks of the outbox. Thin: load ids, call a service."""

import smtplib

from celery import shared_task

from notifications import services

# Task names are wire names: kept from before the outbox had an app of its own, so that
# messages already queued and the beat schedule still resolve.


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
    return services.notification_send(notification_id=notification_id)


@shared_task(name="reviews.tasks.notifications_flush")
def notifications_flush() -> int:
    """Scheduled: send e-mails whose task was lost or gave up (still exactly once)."""
    ids = list(services.notifications_unsent().values_list("pk", flat=True)[:500])
    for pk in ids:
        notification_send.delay(notification_id=pk)
    return len(ids)
