"""When the outbox gives up a document's or a pack's job (``JOBS_MAX_RUNS`` runs that
all died or failed), its row says so instead of "running" for ever: a pack or a
document becomes "failed" with the reason in words (asking again makes a new one); a
signed report whose signed files could not be printed says that on its page (the
signature stands)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from documents.models import EvidencePack, GeneratedDocument


def _reason(runs: int, error: str) -> str:
    last = f" The last attempt ended with: {error[:300]}" if error else ""
    return (
        f"The worker gave up after {runs} attempts; the worker's log has the details.{last} "
        "Ask for it again."
    )


def pack_given_up(kwargs: dict, runs: int, error: str) -> None:
    with transaction.atomic():
        pack = (
            EvidencePack.objects.select_for_update()
            .filter(pk=kwargs.get("pack_id"), status__in=["queued", "running"])
            .first()
        )
        if pack is None:
            return
        pack.status = EvidencePack.Status.FAILED
        pack.error = _reason(runs, error)
        pack.finished_at = timezone.now()
        pack.save(update_fields=["status", "error", "finished_at"])
        audit_record(action="evidence_pack.failed", obj=pack, reason=pack.error)


def document_given_up(kwargs: dict, runs: int, error: str) -> None:
    with transaction.atomic():
        document = (
            GeneratedDocument.objects.select_for_update(of=("self",))
            .filter(pk=kwargs.get("document_id"))
            .first()
        )
        if document is None:
            return
        if document.is_active:
            document.status = GeneratedDocument.Status.FAILED
            document.error = _reason(runs, error)
            document.finished_at = timezone.now()
            document.save(update_fields=["status", "error", "finished_at"])
            audit_record(action="document.failed", obj=document, reason=document.error)
        elif document.signed_files_pending:
            document.stage = "the signed files could not be printed"
            document.error = _reason(runs, error)
            document.save(update_fields=["stage", "error"])
            audit_record(action="document.signed_files_failed", obj=document, reason=document.error)
