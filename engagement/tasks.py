from celery import shared_task

from accounts.task_retry import DB_RETRY


@shared_task(name="engagement.tasks.engagement_daily", **DB_RETRY)
def engagement_daily() -> dict:
    """Scheduled: remind people of attestations and training due or lapsed, and
    escalate lapsed attestations to the governance leads (each e-mail once)."""
    from engagement.services import engagement_remind

    return engagement_remind()
