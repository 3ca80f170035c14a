"""Reading the stored scored files of monitoring (references, production batches,
outcomes): ``core.scored_io`` is the one reader, in ``MONITORING_BATCH_ROWS`` batches; a
file that cannot be used raises ``Unreadable`` with a message for people. Arrow columns
become the arrays ``core.drift`` takes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db.models import QuerySet

from core import drift
from core.scored_io import FileInfo, ScoredDataError, inspect_file, iter_columns
from fairness.models import ScoredDataset
from fairness.services import max_upload_bytes
from monitoring.models import MonitoringBatch, MonitoringConfig


class Unreadable(Exception):
    """A stored file (or its timestamps) cannot be used; the message is for people."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def batch_rows() -> int:
    """Rows per batch when reading a stored file (setting MONITORING_BATCH_ROWS)."""
    return int(_setting("MONITORING_BATCH_ROWS", 1_000_000))


def cast_timestamps(arr: pa.Array) -> np.ndarray:
    """UTC datetime64[ns] of an Arrow column; raises DriftInputError for values without a
    time zone or that are not date-times."""
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            raise drift.DriftInputError(
                "The timestamps have no time zone; give them with a UTC offset."
            )
        return arr.cast(pa.timestamp("ns", tz="UTC")).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return arr.cast(pa.timestamp("ns", tz="UTC")).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # the row-by-row parser says which row has no zone or is not a date-time
            return drift._to_utc_ns(np.asarray(arr.to_pylist(), dtype=object))
    if pa.types.is_date(t):
        raise drift.DriftInputError("The timestamps are dates without a time zone.")
    raise drift.DriftInputError(f"The timestamps must be date-times, not {t}.")


def to_numpy(arr: pa.Array, kind: str) -> np.ndarray:
    """A column for core.drift: float64 (NaN for nulls) or an object array (None)."""
    if kind == "numeric" and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if kind == "numeric" and pa.types.is_boolean(arr.type):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return np.asarray(arr.to_pylist(), dtype=object)


def ids(arr: pa.Array) -> np.ndarray:
    """Prediction ids as text (an object array of str)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_floating(arr.type):
        with contextlib.suppress(pa.ArrowInvalid):  # 12.0 is id 12; fractions stay
            arr = arr.cast(pa.int64())
    return np.asarray(arr.cast(pa.string()).to_pylist(), dtype=object)


def read_columns(
    path: str,
    info: FileInfo,
    columns: Sequence[str],
    *,
    text: Sequence[str] = (),
    rows: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """scored_io.iter_columns (the one reader of stored scored files) in batches of
    ``rows`` (default MONITORING_BATCH_ROWS); an unreadable file raises Unreadable."""
    try:
        yield from iter_columns(path, info, columns, text=text, batch_rows=rows or batch_rows())
    except ScoredDataError as exc:
        raise Unreadable(str(exc)) from exc


def inspect(dataset: ScoredDataset, path: str) -> FileInfo:
    """What a stored file holds (format, columns...); Unreadable when it cannot be read."""
    try:
        return inspect_file(path, max_bytes=max_upload_bytes(), check_encoding=False)
    except ScoredDataError as exc:
        raise Unreadable(str(exc)) from exc


def batches_published(*, config: MonitoringConfig, kind: str) -> QuerySet[MonitoringBatch]:
    """The configuration's batches of a kind whose every row was validated (issue 18: a
    batch in quarantine or rejected is read by nothing), oldest first."""
    return (
        config.batches.filter(kind=kind, dataset__status=ScoredDataset.Status.VALID)
        .select_related("dataset")
        .order_by("received_at", "pk")
    )
