"""Celery tasks of the sign-off workflow. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings

from accounts.task_retry import DB_RETRY


@shared_task(name="reviews.tasks.approvals_remind", **DB_RETRY)
def approvals_remind() -> dict:
    """Scheduled: remind signers of requests pending for N days, escalate after M."""
    from reviews.services.reminders import approvals_remind as run

    return run(
        reminder_days=settings.APPROVAL_REMINDER_DAYS,
        escalation_days=settings.APPROVAL_ESCALATION_DAYS,
    )


@shared_task(name="reviews.tasks.periodic_reviews_flag", **DB_RETRY)
def periodic_reviews_flag() -> dict:
    """Scheduled: flag versions in production past their periodic review."""
    from reviews.services.reminders import periodic_reviews_flag as run

    return run()


@shared_task(name="reviews.tasks.findings_daily", **DB_RETRY)
def findings_daily() -> dict:
    """Scheduled: open again the findings whose risk acceptance expired, then tell the
    owners of overdue findings and escalate those overdue past the grace days."""
    from reviews.services.findings import findings_escalate_overdue, findings_reopen_expired

    reopened = findings_reopen_expired()
    return {"reopened": reopened, **findings_escalate_overdue()}
