"""Celery tasks of the audit trail. Thin: call a service."""

from celery import shared_task

from accounts.task_retry import DB_RETRY
from audit.anchors import audit_anchor_record


@shared_task(name="audit.tasks.audit_anchor", **DB_RETRY)
def audit_anchor() -> str:
    """Scheduled daily: check the chain and anchor its head outside the database.
    A chain that no longer matches its anchors fails the task (nothing is anchored)."""
    anchor, report = audit_anchor_record()
    if anchor is None:
        return "empty trail: nothing to anchor"
    return f"anchored seq {anchor.seq} ({report.count} events checked)"
