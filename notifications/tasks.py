"""Celery tasks of the outbox. Thin: load ids, call a service."""

import smtplib

from celery import shared_task

from notifications import services

# Task names are wire names: kept from before the outbox had an app of its own, so that
# messages already queued and the beat schedule still resolve.


# SMTP failures retry with backoff; the claim in the service keeps it exactly once.
SEND_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": False,
    "max_retries": 8,
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


@shared_task(name="reviews.tasks.notifications_flush")
def notifications_flush() -> int:
    """Scheduled: send e-mails whose task was lost or gave up (still exactly once)."""
    ids = list(services.notifications_unsent().values_list("pk", flat=True)[:500])
    for pk in ids:
        notification_send.delay(notification_id=pk)
    return len(ids)
