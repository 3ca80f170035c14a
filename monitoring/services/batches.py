"""Receiving production batches and outcomes: a CSV/Parquet upload, or JSON rows stored
as Parquet, checked before anything is stored (format and size by ``core.scored_io``,
the configured columns and the timestamps by ``core.monitoring_batches``, outcomes 0/1
for known prediction ids), then stored as a ``ScoredDataset`` of the version with a
``MonitoringBatch`` row saying what it is for."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core import drift
from core.monitoring_batches import TimestampSpan, column_problems, missing_columns
from core.scored_io import FileInfo, ScoredDataError, inspect_file
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from fairness.services import max_upload_bytes, scored_file_spool, scored_file_store
from monitoring.models import MonitoringBatch, MonitoringConfig
from monitoring.services.files import (
    Unreadable,
    cast_timestamps,
    ids,
    inspect,
    read_columns,
    to_numpy,
)
from monitoring.services.policy import can_configure


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


def _known_ids(config: MonitoringConfig) -> np.ndarray:
    found = []
    for batch in config.batches.filter(kind=MonitoringBatch.Kind.PRODUCTION).select_related(
        "dataset"
    ):
        with scored_dataset_local_path(batch.dataset) as path:
            info = inspect(batch.dataset, path)
            if config.id_column not in info.columns:
                continue
            for rb in read_columns(path, info, [config.id_column], text=[config.id_column]):
                found.append(ids(rb.column(config.id_column)))
    return np.unique(np.concatenate(found).astype(str)) if found else np.empty(0, dtype=str)


def _check_production(config: MonitoringConfig, path: str, info: FileInfo, now) -> dict:
    """Read a production file once: timestamps must carry a zone (else ValidationError);
    future or missing ones are counted and recorded. Returns what the batch row keeps."""
    needed = [config.timestamp_column, config.drift_prediction_column, config.prediction_column]
    if config.id_column:
        needed.append(config.id_column)
    missing = missing_columns(needed, info.columns)
    if missing:
        raise ValidationError(
            {
                "file": f"The file has no column {', '.join(map(repr, missing))}; its columns "
                f"are {', '.join(map(repr, info.columns[:30]))}."
            }
        )
    roles = {config.timestamp_column, config.id_column, config.prediction_column}
    roles |= {config.score_column, config.outcome_column, *config.sensitive_columns}
    problems = column_problems(features=config.features, roles=roles, columns=info.columns)
    span = _timestamp_span(config, path, info, now)
    problems += span.problems()
    if span.all_rejected:
        raise ValidationError({"file": "Every timestamp is missing or in the future."})
    return {
        "time_start": span.start,
        "time_end": span.end,
        "rows": span.rows,
        "rejected_rows": span.rejected,
        "problems": problems,
    }


def _timestamp_span(config: MonitoringConfig, path: str, info: FileInfo, now) -> TimestampSpan:
    """Count a production file's timestamps, batch by batch; timestamps without a zone or
    a file that cannot be read are a ValidationError on the file."""
    ts_col = config.timestamp_column
    span = TimestampSpan.until(now)
    text = [ts_col, config.id_column] if config.id_column else [ts_col]
    try:
        for rb in read_columns(path, info, [ts_col], text=text):
            span.add(cast_timestamps(rb.column(ts_col)))
    except drift.DriftInputError as exc:
        raise ValidationError({"file": f"Column {ts_col!r}: {exc}"}) from exc
    except Unreadable as exc:
        raise ValidationError({"file": str(exc)}) from exc
    return span


def _check_outcomes(config: MonitoringConfig, path: str, info: FileInfo) -> dict:
    """Outcomes must be 0/1 with a prediction id; ids of no production row are counted
    and recorded (all unknown: ValidationError)."""
    if not config.id_column or not config.outcome_column:
        raise ValidationError(
            {
                "file": "Outcomes are joined by prediction id: configure the id column and the "
                "outcome column first."
            }
        )
    missing = [c for c in (config.id_column, config.outcome_column) if c not in info.columns]
    if missing:
        raise ValidationError({"file": f"The file has no column {', '.join(map(repr, missing))}."})
    known = _known_ids(config)
    rows = matched = 0
    unknown_examples: list[str] = []
    try:
        for rb in read_columns(
            path, info, [config.id_column, config.outcome_column], text=[config.id_column]
        ):
            batch_ids = ids(rb.column(config.id_column)).astype(str)
            y = to_numpy(rb.column(config.outcome_column), "numeric")
            if y.dtype.kind != "f":
                raise ValidationError({"file": "The outcomes must be 0 or 1."})
            bad = ~np.isnan(y) & (y != 0) & (y != 1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(
                    {"file": f"Row {rows + i + 1:,}: the outcome {y[i]!r} is not 0 or 1."}
                )
            hit = np.isin(batch_ids, known)
            rows += len(batch_ids)
            matched += int(hit.sum())
            unknown_examples += batch_ids[~hit][: 5 - len(unknown_examples)].tolist()
    except Unreadable as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if rows and not matched:
        raise ValidationError(
            {
                "file": f"None of the {rows:,} prediction ids is in a production batch of this "
                f"version (e.g. {', '.join(map(repr, unknown_examples[:3]))})."
            }
        )
    problems = []
    if matched < rows:
        problems.append(
            f"{rows - matched:,} outcome(s) for unknown prediction ids (e.g. "
            f"{', '.join(map(repr, unknown_examples))}) are ignored."
        )
    return {"rows": rows, "matched_rows": matched, "problems": problems}


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
    rows stored as Parquet), stored as a ScoredDataset of the version.

    Checked before anything is stored: the format and size (scored_io), the configured
    columns, timestamps with a time zone (production), outcomes 0/1 for known prediction
    ids (outcomes). Future or missing timestamps and unknown ids are recorded on the
    batch. The same bytes again return the batch received before. Returns
    (batch, created). Raises PermissionDenied / ValidationError; queues nothing (the
    beat task or a recompute picks the batch up).
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
            info = inspect_file(path, max_bytes=limit)
        except ScoredDataError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        if kind == MonitoringBatch.Kind.PRODUCTION:
            found = _check_production(config, path, info, now)
        else:
            found = _check_outcomes(config, path, info)
        batch = _batch_store(config, by, kind, path, sha, info, original, found, now)
        return batch, True
    finally:
        if temporary:
            os.remove(path)


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


@transaction.atomic
def _batch_store(
    config: MonitoringConfig,
    by: User | None,
    kind: str,
    path: str,
    sha: str,
    info: FileInfo,
    original: str,
    found: dict,
    now: dt.datetime,
) -> MonitoringBatch:
    """Store the checked file as a dataset of the version, its batch row and the audit
    event, in one transaction."""
    version = config.model_version
    dataset, _ = scored_file_store(
        version,
        by,
        path,
        sha,
        info,
        _batch_mapping(config, kind),
        original,
        f"Monitoring: {MonitoringBatch.Kind(kind).label.lower()}.",
        ScoredDataset.Purpose.PRODUCTION,
    )
    batch = MonitoringBatch.objects.create(
        config=config, dataset=dataset, kind=kind, received_at=now, **found
    )
    audit_record(
        action=f"monitoring.{kind}_received",
        obj=batch,
        actor=by,
        reason=f"{original}: {batch.rows:,} rows. " + " ".join(found["problems"]),
        parent=version,
    )
    return batch
