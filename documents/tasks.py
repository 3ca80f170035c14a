"""Celery tasks of documents. Thin: load ids, call a service."""

from celery import shared_task

from accounts.task_retry import DB_RETRY
from notifications.jobs import OutboxTask


@shared_task(
    name="documents.tasks.evidence_pack_build",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["pack_id"],
    **DB_RETRY,
)
def evidence_pack_build(*, pack_id: int) -> dict:
    """Build and store one evidence pack; one run at a time per pack (its outbox row)."""
    from documents.services import evidence_pack_build as run

    return run(pack_id=pack_id)


@shared_task(
    name="documents.tasks.document_render",
    base=OutboxTask,
    job_key=lambda kwargs: kwargs["document_id"],
    **DB_RETRY,
)
def document_render(*, document_id: int) -> dict:
    """Print one governance document as PDF and write it as Word."""
    from documents.services.generation import document_render as run

    return run(document_id=document_id)


@shared_task(name="documents.tasks.portfolio_report_monthly", **DB_RETRY)
def portfolio_report_monthly() -> dict:
    """The month's portfolio report, e-mailed to the governance mailbox once rendered
    (beat, every hour: the first run of a month makes it, the others find it made, so a
    worker that was down at the turn of the month still makes it when it is back)."""
    from documents.services.generation import portfolio_report_monthly as run

    return run()
