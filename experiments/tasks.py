"""Celery tasks of experiments. Thin: load ids, call a service."""

import smtplib

from celery import shared_task

from notifications import services as notifications

# Task names are wire names: kept from before the apps split, so that messages already
# queued and the beat schedule still resolve.


@shared_task(name="reviews.tasks.experiments_check")
def experiments_check() -> dict:
    """Scheduled: end experiments at their planned sample size or date (the owner is
    e-mailed) and queue the analyses that are due (the end, or an interim look)."""
    from experiments.services import experiments_check as run

    outcome = run()
    for pk in outcome["analyse"]:
        experiment_analyse.delay(experiment_id=pk)
    return outcome


@shared_task(name="reviews.tasks.experiment_analyse")
def experiment_analyse(*, experiment_id: int) -> dict:
    """Data-quality checks, then the pre-registered test; idempotent."""
    from experiments.services import experiment_analyse as run

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
