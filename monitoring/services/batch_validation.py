"""Validating a production batch or a file of outcomes in the worker (issue 18), the way
bias datasets are (``fairness.services.validation``: quarantine, one streaming pass,
publish or reject, the outbox lease and sweep). What is monitoring's own is the check
and what publication sets going:

- a production batch: the configured columns, every timestamp a date-time with a time
  zone (missing or future ones counted and recorded, as before), every value of a
  numeric feature and of the score a number; published, its batch row gets the span
  and counts and the windows are queued (``monitoring_compute``);
- outcomes: 0/1 for prediction ids of the version's published production batches.

The first bad value rejects the file with its column and 1-based data row. Memory is
bounded by a batch of ``MONITORING_BATCH_ROWS`` rows (the prediction ids of the
published batches excepted, as the join needs them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from audit.services import audit_record
from core import drift
from core.monitoring_batches import (
    TimestampSpan,
    column_problems,
    first_not_number,
    missing_columns,
)
from core.scored_io import FileInfo, ScoredDataError, inspect_file, iter_columns
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from fairness.services import max_upload_bytes
from fairness.services.validation import Validation, dataset_given_up, dataset_validate
from monitoring.models import MonitoringBatch, MonitoringConfig
from monitoring.services.files import (
    batch_rows,
    batches_published,
    cast_timestamps,
    ids,
    to_numpy,
)
from notifications.jobs import enqueue

Progress = Callable[[int, int | None], None]
_NUMBER_TYPES = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_null)


def _rows(path: str, info: FileInfo, columns: list[str], text: list[str]):
    """(first data row, record batch) of the named columns, a batch at a time."""
    start = 1
    for rb in iter_columns(path, info, columns, text=text, batch_rows=batch_rows()):
        yield start, rb
        start += rb.num_rows


def _timestamps(arr: pa.Array, column: str, start: int) -> np.ndarray:
    """UTC datetime64[ns] of a batch's timestamps; ScoredDataError at the first value
    that is not a date-time with a time zone."""
    try:
        return cast_timestamps(arr)
    except drift.DriftInputError as exc:
        if exc.row is None:  # the column's type: no row is at fault
            raise ScoredDataError(str(exc), column=column) from exc
        value = arr[exc.row].as_py()
        raise ScoredDataError(
            f"{value!r} is not a date-time with a time zone (give ISO 8601 with a UTC offset).",
            column=column,
            row=start + exc.row,
        ) from exc


def _numbers(rb: pa.RecordBatch, columns: list[str], start: int) -> None:
    """ScoredDataError at the first value of a numeric column that is not a number."""
    for name in columns:
        arr = rb.column(name)
        if any(is_type(arr.type) for is_type in _NUMBER_TYPES):
            continue
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        at = first_not_number(arr.to_pylist())
        if at is None:
            continue
        raise ScoredDataError(
            f"{arr[at].as_py()!r} is not a number (a numeric feature or the score).",
            column=name,
            row=start + at,
        )


def _production(
    config: MonitoringConfig, path: str, info: FileInfo, now: dt.datetime, progress: Progress
) -> dict[str, Any]:
    """One pass over a production file: what the batch row keeps, or ScoredDataError."""
    ts_col = config.timestamp_column
    needed = [ts_col, config.drift_prediction_column, config.prediction_column, config.id_column]
    missing = missing_columns(needed, info.columns)
    if missing:
        raise ScoredDataError("The file has no such column.", column=missing[0])
    roles = {ts_col, config.id_column, config.prediction_column}
    roles |= {config.score_column, config.outcome_column, *config.sensitive_columns}
    problems = column_problems(features=config.features, roles=roles, columns=info.columns)
    numeric = [c for c in (*config.numeric_features, config.score_column) if c in info.columns]
    span = TimestampSpan.until(now)
    for start, rb in _rows(path, info, [ts_col, *numeric], text=[ts_col]):
        _numbers(rb, numeric, start)
        span.add(_timestamps(rb.column(ts_col), ts_col, start))
        progress(span.rows, info.rows)
    if not span.rows:
        raise ScoredDataError("The file has no data rows.")
    if span.all_rejected:
        raise ScoredDataError("Every timestamp is missing or in the future.", column=ts_col)
    return {
        "time_start": span.start,
        "time_end": span.end,
        "rows": span.rows,
        "rejected_rows": span.rejected,
        "problems": problems + span.problems(),
    }


def _known_ids(config: MonitoringConfig) -> np.ndarray:
    """The prediction ids of the configuration's published production batches."""
    found = []
    for batch in batches_published(config=config, kind=MonitoringBatch.Kind.PRODUCTION):
        with scored_dataset_local_path(batch.dataset) as path:
            info = inspect_file(path, max_bytes=max_upload_bytes(), check_encoding=False)
            if config.id_column not in info.columns:
                continue
            for _, rb in _rows(path, info, [config.id_column], text=[config.id_column]):
                found.append(ids(rb.column(config.id_column)))
    return np.unique(np.concatenate(found).astype(str)) if found else np.empty(0, dtype=str)


def _outcomes(config: MonitoringConfig, path: str, info: FileInfo, progress: Progress) -> dict:
    """One pass over a file of outcomes: 0/1 with a known prediction id (unknown ids are
    counted and recorded; none known is an error)."""
    id_col, y_col = config.id_column, config.outcome_column
    missing = missing_columns([id_col, y_col], info.columns)
    if missing:
        raise ScoredDataError("The file has no such column.", column=missing[0])
    known = _known_ids(config)
    rows = matched = 0
    unknown: list[str] = []
    for start, rb in _rows(path, info, [id_col, y_col], text=[id_col]):
        batch_ids = ids(rb.column(id_col)).astype(str)
        y = to_numpy(rb.column(y_col), "numeric")
        if y.dtype.kind != "f":
            raise ScoredDataError("The outcomes must be 0 or 1.", column=y_col)
        bad = ~np.isnan(y) & (y != 0) & (y != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScoredDataError(
                f"The outcome {y[i]!r} is not 0 or 1.", column=y_col, row=start + i
            )
        hit = np.isin(batch_ids, known)
        rows += len(batch_ids)
        matched += int(hit.sum())
        unknown += batch_ids[~hit][: 5 - len(unknown)].tolist()
        progress(rows, info.rows)
    if not rows:
        raise ScoredDataError("The file has no data rows.")
    if not matched:
        raise ScoredDataError(
            f"None of the {rows:,} prediction ids is in a production batch of this version "
            f"(e.g. {', '.join(map(repr, unknown[:3]))}).",
            column=id_col,
        )
    problems = []
    if matched < rows:
        problems.append(
            f"{rows - matched:,} outcome(s) for unknown prediction ids (e.g. "
            f"{', '.join(map(repr, unknown))}) are ignored."
        )
    return {"rows": rows, "matched_rows": matched, "problems": problems}


def _check(dataset: ScoredDataset, path: str, progress: Progress) -> tuple[FileInfo, dict]:
    batch = MonitoringBatch.objects.select_related("config").get(dataset=dataset)
    info = inspect_file(path, max_bytes=max_upload_bytes(), check_encoding=False)
    if batch.kind == MonitoringBatch.Kind.PRODUCTION:
        found = _production(batch.config, path, info, batch.received_at, progress)
    else:
        found = _outcomes(batch.config, path, info, progress)
    return dataclasses.replace(info, rows=found["rows"]), found


def _published(dataset: ScoredDataset, found: dict) -> dict[str, Any]:
    """The batch row gets what was found; the windows are queued (after commit)."""
    from monitoring.tasks import monitoring_compute as monitoring_compute_task

    batch = MonitoringBatch.objects.select_for_update().get(dataset=dataset)
    for name, value in found.items():
        setattr(batch, name, value)
    batch.save(update_fields=list(found))
    audit_record(
        action=f"monitoring.{batch.kind}_published",
        obj=batch,
        actor=None,
        reason=f"{dataset.original_name}: {batch.rows:,} rows. " + " ".join(batch.problems),
        parent=dataset.model_version,
    )
    enqueue(monitoring_compute_task, kwargs={"config_id": batch.config_id})
    return {"batch": batch.pk}


MONITORING = Validation(check=_check, published=_published)


def monitoring_batch_validate(*, dataset_id: int) -> dict[str, Any]:
    """Validate a quarantined production batch or outcomes file, then publish it (and
    queue its windows) or reject it. Idempotent (``dataset_validate``)."""
    return dataset_validate(dataset_id=dataset_id, validation=MONITORING)


def monitoring_batch_given_up(kwargs: dict, runs: int, error: str) -> None:
    """The outbox gave a batch's validation up: rejected, its bytes deleted."""
    dataset_given_up(kwargs, runs, error, MONITORING)
