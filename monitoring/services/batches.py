"""Receiving production batches and outcomes: a CSV/Parquet upload, or JSON rows stored
as Parquet. The request checks only what the first bytes tell (who sends, size, format
by content, the header's configured columns), stores the bytes in quarantine as a
``validating`` ``ScoredDataset`` of the version with a ``MonitoringBatch`` row saying
what it is for, and queues the worker's check of every row
(``monitoring.services.batch_validation``), which publishes the batch and queues its
windows, or rejects it with the column and row (issue 18)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from audit.services import audit_record
from core.monitoring_batches import missing_columns
from core.scored_io import FileInfo, ScoredDataError, inspect_file
from fairness.models import ScoredDataset
from fairness.services import Upload, max_upload_bytes, scored_file_quarantine, scored_file_spool
from monitoring.models import MonitoringBatch, MonitoringConfig
from monitoring.services.policy import can_configure
from notifications.jobs import enqueue


@dataclass
class _MonitoringMapping:
    """The column mapping stored on a monitoring ScoredDataset (scored_io's ColumnMapping
    needs an outcome, which production rows do not have yet)."""

    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.data)


def _rows_file(rows: Any) -> ContentFile:
    """JSON rows (a list of objects) as a Parquet file, stored like an upload."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, Mapping) for r in rows):
        raise ValidationError({"rows": "Give the rows as a non-empty list of objects."})
    columns = list(dict.fromkeys(k for r in rows for k in r))
    try:
        table = pa.table({c: pa.array([r.get(c) for r in rows]) for c in columns})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationError({"rows": f"The rows cannot be read as a table: {exc}"}) from exc
    out = io.BytesIO()
    pq.write_table(table, out)
    return ContentFile(out.getvalue(), name="rows.parquet")


def monitoring_batch_upload(
    *,
    config: MonitoringConfig,
    by: User | None,
    file=None,
    rows: list[Mapping[str, Any]] | None = None,
    kind: str = MonitoringBatch.Kind.PRODUCTION,
    name: str = "",
    now: dt.datetime | None = None,
) -> tuple[MonitoringBatch, bool]:
    """Receive a production batch or a file of outcomes (CSV/Parquet upload, or JSON
    rows stored as Parquet), to be validated by a worker.

    Answered at once, before anything is stored: who may send data, the kind, the size
    against SCORED_DATA_MAX_BYTES (before reading a byte), the format by content, and
    the configured columns in the header. Then the bytes wait in quarantine (the
    dataset ``validating``, the batch row received at ``now``) and the worker's job is
    queued: it reads every row once and publishes the batch (then queues its windows)
    or rejects it with the column and row. The same bytes again return the batch
    received before. Returns (batch, created). Raises PermissionDenied /
    ValidationError; nothing is stored when they are raised.
    """
    _upload_allowed(config=config, by=by, kind=kind, file=file, rows=rows)
    if rows is not None:
        file = _rows_file(rows)
        name = name or f"{kind}-rows.parquet"
    now = now or timezone.now()
    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError({"file": f"The file is {size:,} bytes, over the limit of {limit:,}."})
    original = os.path.basename(name or getattr(file, "name", "") or f"{kind}.csv")[:255]
    digest = hashlib.sha256()
    path, temporary = scored_file_spool(file, digest)
    try:
        sha = digest.hexdigest()
        earlier = _batch_received_before(config, sha, kind)
        if earlier is not None:
            return earlier, False
        try:
            info = inspect_file(path, max_bytes=limit, head_only=True)
        except ScoredDataError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        _header_check(config, kind, info)
        upload = Upload(
            config.model_version,
            by,
            sha,
            info,
            _batch_mapping(config, kind),
            original,
            f"Monitoring: {MonitoringBatch.Kind(kind).label.lower()}.",
            ScoredDataset.Purpose.PRODUCTION,
        )
        dataset, created = scored_file_quarantine(
            upload, file, path, temporary, recorded=partial(_batch_record, config, by, kind, now)
        )
        if not created:  # the same bytes, recorded meanwhile
            return _batch_received_before(config, sha, kind) or dataset.monitoring_batch, False
        return dataset.monitoring_batch, True
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.remove(path)


def _header_check(config: MonitoringConfig, kind: str, info: FileInfo) -> None:
    """ValidationError unless the header has the columns the worker will read."""
    if kind == MonitoringBatch.Kind.PRODUCTION:
        needed = [config.timestamp_column, config.drift_prediction_column]
        needed += [config.prediction_column, config.id_column]
    elif not config.id_column or not config.outcome_column:
        raise ValidationError(
            {
                "file": "Outcomes are joined by prediction id: configure the id column and the "
                "outcome column first."
            }
        )
    else:
        needed = [config.id_column, config.outcome_column]
    missing = missing_columns(needed, info.columns)
    if missing:
        raise ValidationError(
            {
                "file": f"The file has no column {', '.join(map(repr, missing))}; its columns "
                f"are {', '.join(map(repr, info.columns[:30]))}."
            }
        )


def _upload_allowed(*, config: MonitoringConfig, by: User | None, kind: str, file, rows) -> None:
    """PermissionDenied unless ``by`` may send data (None: the system); ValidationError for
    an unknown kind, or unless exactly one of a file and rows is given."""
    if by is not None and not can_configure(by, config.model_version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads send data."
        )
    if kind not in MonitoringBatch.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    if (file is None) == (rows is None):
        raise ValidationError({"file": "Send a file or JSON rows (one of them)."})


def _batch_received_before(config: MonitoringConfig, sha: str, kind: str) -> MonitoringBatch | None:
    """The batch these exact bytes were received as before (same config and kind), None
    for new bytes; ValidationError when the version already has them for anything else."""
    version = config.model_version
    existing = (
        ScoredDataset.objects.filter(model_version=version, sha256=sha)
        .exclude(status=ScoredDataset.Status.REJECTED)
        .first()
    )
    if existing is None:
        return None
    batch = MonitoringBatch.objects.filter(dataset=existing).first()
    if batch is not None and batch.config_id == config.pk and batch.kind == kind:
        return batch
    raise ValidationError(
        {
            "file": f"These exact bytes are already attached to this version as dataset "
            f"#{existing.pk} ({existing.original_name})."
        }
    )


def _batch_mapping(config: MonitoringConfig, kind: str) -> _MonitoringMapping:
    return _MonitoringMapping(
        {
            "monitoring": kind,
            "outcome": config.outcome_column or None,
            "sensitive": list(config.sensitive_columns),
            "prediction": config.prediction_column or None,
            "score": config.score_column or None,
            "timestamp": config.timestamp_column or None,
            "id": config.id_column or None,
            "features": config.features,
        }
    )


def _batch_record(
    config: MonitoringConfig, by: User | None, kind: str, now: dt.datetime, dataset: ScoredDataset
) -> None:
    """In the quarantine's transaction: the batch row, its audit event and the worker's
    check (heavy queue, published after commit)."""
    from monitoring.tasks import monitoring_batch_validate as validate_task

    batch = MonitoringBatch.objects.create(
        config=config, dataset=dataset, kind=kind, received_at=now
    )
    audit_record(
        action=f"monitoring.{kind}_received",
        obj=batch,
        actor=by,
        reason=f"{dataset.original_name}: in quarantine until every row is validated.",
        parent=config.model_version,
    )
    enqueue(validate_task, kwargs={"dataset_id": dataset.pk})
