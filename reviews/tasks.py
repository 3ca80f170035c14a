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
