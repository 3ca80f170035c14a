"""Celery tasks of the audit trail. Thin: call a service."""

from celery import shared_task

from accounts.task_retry import DB_RETRY, TRANSIENT_DB_ERRORS
from audit import stored_files
from audit.anchors import audit_anchor_failed, audit_anchor_record


@shared_task(name="audit.tasks.audit_anchor", **DB_RETRY)
def audit_anchor() -> str:
    """Scheduled daily: check the chain and anchor its head outside the database.
    A chain that no longer matches its anchors fails the task (nothing is anchored).
    Any failure but a transient database error (retried) is recorded and alerted
    (``audit_anchor_failed``: an audit event, an e-mail to the audit mailbox and the
    governance leads) before the task fails."""
    try:
        anchor, report = audit_anchor_record()
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception as exc:
        audit_anchor_failed(error=exc)
        raise
    if anchor is None:
        return "empty trail: nothing to anchor"
    return f"anchored seq {anchor.seq} ({report.count} events checked)"


@shared_task(name="audit.tasks.media_sweep", **DB_RETRY)
def media_sweep() -> str:
    """Scheduled hourly: remove stored files no record refers to, older than the grace
    period (``audit.stored_files``); each removal is audited."""
    report = stored_files.media_sweep()
    return f"{len(report.removed)} orphan file(s) removed, {len(report.failed)} failed"
