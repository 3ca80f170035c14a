"""Celery tasks of Step 8 (issue 16). Thin: call a service."""

from celery import shared_task

from accounts.task_retry import DB_RETRY


@shared_task(name="oversight.tasks.snapshot_daily", **DB_RETRY)
def governance_snapshot_daily() -> dict:
    """Scheduled: take today's governance snapshot (once a day: a second run keeps the
    first) and alert the governance leads of the KRIs in breach (once per KRI and day)."""
    from oversight.services.snapshots import snapshot_take

    snapshot, created = snapshot_take()
    return {"day": snapshot.day.isoformat(), "created": created}


@shared_task(name="oversight.tasks.review_due", **DB_RETRY)
def framework_review_due() -> dict:
    """Scheduled: e-mail the governance leads when no framework review was signed within
    FRAMEWORK_REVIEW_INTERVAL_DAYS (once until one is)."""
    from oversight.services.framework import framework_review_due_notify

    return {"notified": framework_review_due_notify()}
