"""Validating an upload in the worker (issue 18): every row read once, in bounded
memory (``core.scored_io.validate_file``), then the dataset is published (its bytes
stored by content under ``scored-data/``, ``valid``, the bias summary asked for with the
upload requested) or rejected (the reason with its column and row, the quarantined
bytes deleted). Nothing reads a dataset before it is valid.

Restart-safe the way every heavy job is: the task runs under its outbox lease
(``notifications.jobs``); a worker killed mid-validation lets the lease lapse and beat's
``jobs_sweep`` publishes the job again, which reads the file from the start (validation
writes nothing but progress until its last transaction, which re-checks the state under
a row lock). When the outbox gives up, the upload is rejected with the reason.

The machinery is shared: ``dataset_validate`` takes a ``Validation`` saying how a kind
of upload is read (its check, one streaming pass) and what its publication sets going
inside the publishing transaction. Bias datasets use ``BIAS`` (``validate_file`` on the
column mapping, then the summary asked for with the upload); monitoring's production
batches and outcomes bring their own (``monitoring.services.batch_validation``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.task_retry import TRANSIENT_DB_ERRORS
from audit.services import audit_record
from audit.stored_files import stored_file_discard, stored_file_lock
from core.scored_io import ColumnMapping, FileInfo, ScoredDataError, validate_file
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from fairness.services.common import _setting, max_upload_bytes
from fairness.services.datasets import _stored_copy

logger = logging.getLogger("fairness.services")
Status = ScoredDataset.Status


Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Validation:
    """How one kind of quarantined upload is validated and published.

    ``check(dataset, path, progress)`` reads the file once, in bounded memory, calling
    ``progress(rows_done, rows_total)`` as it goes; it returns the file's ``FileInfo``
    with the rows counted and anything the publication needs, or raises
    ScoredDataError naming the column and row. ``published(dataset, found)`` runs in the
    publishing transaction, after the dataset is marked valid (queue follow-up work
    there, through the outbox); it returns extra keys for the task's outcome.
    ``rejected(dataset, error)`` runs in the rejecting transaction."""

    check: Callable[[ScoredDataset, str, Progress], tuple[FileInfo, Any]]
    published: Callable[[ScoredDataset, Any], dict[str, Any]]
    rejected: Callable[[ScoredDataset, str], None] | None = None


def dataset_validate(*, dataset_id: int, validation: Validation) -> dict[str, Any]:
    """Validate a quarantined upload and publish or reject it (the worker's side).
    Idempotent: a dataset that is no longer validating is left as it is. Returns what
    it did."""
    dataset = ScoredDataset.objects.filter(pk=dataset_id, status=Status.VALIDATING).first()
    if dataset is None:
        return {"dataset": dataset_id, "status": "valid, rejected or gone"}
    ScoredDataset.objects.filter(pk=dataset_id).update(rows_done=0)

    def progress(done: int, total: int | None) -> None:
        counted = {"rows": total} if total else {}  # a CSV's rows, unknown at the upload
        ScoredDataset.objects.filter(pk=dataset_id, status=Status.VALIDATING).update(
            rows_done=done, **counted
        )

    quarantined = dataset.file.name
    try:
        with scored_dataset_local_path(dataset) as path:
            info, found = validation.check(dataset, path, progress)
            outcome = _publish(dataset_id, path, info, found, validation)
    except TRANSIENT_DB_ERRORS:
        raise  # the task retries with backoff; the upload stays validating
    except ScoredDataError as exc:
        outcome = _reject(dataset_id, str(exc), validation, column=exc.column, row=exc.row)
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            why = "Validating the file took longer than the time allowed."
        elif isinstance(exc, OSError):
            why = f"The uploaded file cannot be read ({type(exc).__name__})."
        else:
            logger.exception("validating scored dataset %s failed", dataset_id)
            why = f"Validating the file failed unexpectedly ({type(exc).__name__})."
        outcome = _reject(dataset_id, why, validation)
    if outcome["status"] in (Status.VALID, Status.REJECTED) and quarantined:
        stored_file_discard(quarantined)  # no row names it any more
    return outcome


def _bias_check(dataset: ScoredDataset, path: str, progress: Progress) -> tuple[FileInfo, None]:
    info = validate_file(
        path,
        ColumnMapping.from_dict(dataset.mapping),
        max_bytes=max_upload_bytes(),
        batch_rows=int(_setting("BIAS_BATCH_ROWS", 1_000_000)),
        max_groups=int(_setting("BIAS_MAX_GROUPS", 1_000)),
        progress=progress,
    )
    return info, None


def _bias_published(dataset: ScoredDataset, found: None) -> dict[str, Any]:
    """The bias summary asked for with the upload, requested now that it is valid."""
    from fairness.services.summary_request import bias_summary_request

    if dataset.summary_on_valid is None:
        return {}
    summary, _ = bias_summary_request(
        dataset=dataset, by=dataset.uploaded_by, **dataset.summary_on_valid
    )
    return {"summary": summary.pk}


BIAS = Validation(check=_bias_check, published=_bias_published)


def scored_dataset_validate(*, dataset_id: int) -> dict[str, Any]:
    """Validate a quarantined bias dataset (``dataset_validate`` with ``BIAS``)."""
    return dataset_validate(dataset_id=dataset_id, validation=BIAS)


def _publish(
    dataset_id: int, path: str, info: FileInfo, found: Any, validation: Validation
) -> dict[str, Any]:
    """Store the validated bytes by content and mark the dataset valid, with its audit
    event and what the validation's ``published`` sets going, in one transaction."""
    dataset = ScoredDataset.objects.get(pk=dataset_id)
    name = f"scored-data/{dataset.sha256[:2]}/{dataset.sha256}.{dataset.format}"
    stored, created_file = _stored_copy(name, path, info.size)
    try:
        with transaction.atomic():
            stored_file_lock()
            dataset = ScoredDataset.objects.select_for_update().get(pk=dataset_id)
            if dataset.status != Status.VALIDATING:  # another run finished it
                if created_file:
                    transaction.on_commit(lambda: stored_file_discard(stored))
                return {"dataset": dataset_id, "status": dataset.status}
            if not default_storage.exists(stored):  # swept meanwhile: stored again
                stored, created_file = _stored_copy(name, path, info.size)
            dataset.file.name = stored
            dataset.status = Status.VALID
            dataset.rows = dataset.rows_done = info.rows or 0
            dataset.columns = list(info.columns)
            dataset.row_groups = info.row_groups
            dataset.validated_at = timezone.now()
            dataset.save(
                update_fields=[
                    "file",
                    "status",
                    "rows",
                    "rows_done",
                    "columns",
                    "row_groups",
                    "validated_at",
                ]
            )
            audit_record(
                action="scored_dataset.validated",
                obj=dataset,
                actor=None,
                reason=f"{dataset.original_name}: every row valid ({dataset.rows:,} rows); "
                "published",
                changes={"status": [Status.VALIDATING, Status.VALID]},
                parent=dataset.model_version,
            )
            extra = validation.published(dataset, found)
    except BaseException:
        if created_file:
            stored_file_discard(stored)
        raise
    return {"dataset": dataset_id, "status": Status.VALID, "rows": dataset.rows, **extra}


def _reject(
    dataset_id: int,
    error: str,
    validation: Validation,
    *,
    column: str | None = None,
    row: int | None = None,
) -> dict[str, Any]:
    """Mark the upload rejected with the reason (its quarantined bytes are then deleted
    by the caller), audited."""
    with transaction.atomic():
        dataset = ScoredDataset.objects.select_for_update().get(pk=dataset_id)
        if dataset.status != Status.VALIDATING:
            return {"dataset": dataset_id, "status": dataset.status}
        dataset.status = Status.REJECTED
        dataset.error = error
        dataset.error_column = (column or "")[:255]
        dataset.error_row = row
        dataset.validated_at = timezone.now()
        dataset.file.name = ""
        dataset.save(
            update_fields=["status", "error", "error_column", "error_row", "validated_at", "file"]
        )
        audit_record(
            action="scored_dataset.rejected",
            obj=dataset,
            actor=None,
            reason=f"{dataset.original_name}: {error}",
            changes={"status": [Status.VALIDATING, Status.REJECTED]},
            parent=dataset.model_version,
        )
        if validation.rejected is not None:
            validation.rejected(dataset, error)
    return {"dataset": dataset_id, "status": Status.REJECTED, "error": error}


def dataset_given_up(kwargs: dict, runs: int, error: str, validation: Validation) -> None:
    """The outbox gave the validation up (its runs kept dying): reject the upload and
    delete its quarantined bytes."""
    dataset_id = kwargs.get("dataset_id")
    dataset = ScoredDataset.objects.filter(pk=dataset_id, status=Status.VALIDATING).first()
    if dataset is None:
        return
    quarantined = dataset.file.name
    _reject(
        dataset.pk,
        f"The file could not be validated after {runs} attempts ({error}). Upload it again.",
        validation,
    )
    if quarantined:
        stored_file_discard(quarantined)


def scored_dataset_given_up(kwargs: dict, runs: int, error: str) -> None:
    """The outbox gave a bias dataset's validation up."""
    dataset_given_up(kwargs, runs, error, BIAS)
