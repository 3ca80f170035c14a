"""Time windows: rows cut into daily or weekly UTC windows (``window_split``), with
timestamps normalised to UTC and rows without a timestamp or in the future set aside."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.drift.base import CADENCES, DriftInputError


@dataclass(frozen=True)
class Window:
    """One time window [start, end) in UTC and the row indices that fall in it."""

    start: np.datetime64
    end: np.datetime64
    rows: np.ndarray

    @property
    def label(self) -> str:
        return str(self.start.astype("datetime64[D]"))


@dataclass(frozen=True)
class WindowSplit:
    """Windows from the first to the last timestamp (empty ones included), and the rows
    left out with why (future or missing timestamps)."""

    windows: list[Window]
    rejected: np.ndarray
    errors: list[str]


_NS = "datetime64[ns]"


def _to_utc_ns(timestamps: Any) -> np.ndarray:
    """datetime64[ns] (UTC). numpy datetime64 values are taken as UTC (that is how a
    tz-aware Arrow column arrives); Python datetimes and strings must carry a zone."""
    arr = np.asarray(timestamps)
    if arr.dtype.kind == "M":
        return arr.astype(_NS)
    if arr.dtype.kind not in "OU":
        raise DriftInputError(f"Timestamps must be date-times, got {arr.dtype} values.")
    out = np.empty(arr.size, dtype=_NS)
    naive = 0
    first_naive = None
    for i, v in enumerate(arr.ravel().tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = np.datetime64("NaT")
            continue
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                raise DriftInputError(
                    f"Timestamp at row {i + 1} is not an ISO date-time: {v!r}.", row=i
                ) from None
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            raise DriftInputError(f"Timestamp at row {i + 1} is a date without a time zone.", row=i)
        if not isinstance(v, dt.datetime):
            raise DriftInputError(f"Timestamp at row {i + 1} is not a date-time: {v!r}.", row=i)
        if v.tzinfo is None or v.utcoffset() is None:
            naive += 1
            first_naive = first_naive if first_naive is not None else i
            continue
        utc = v.astimezone(dt.UTC).replace(tzinfo=None)
        out[i] = np.datetime64(utc, "ns")
    if naive:
        raise DriftInputError(
            f"{naive:,} timestamps have no time zone (first at row {first_naive + 1}); "
            "give them with a UTC offset.",
            row=first_naive,
        )
    return out


def window_split(
    timestamps: Any,
    cadence: str,
    *,
    now: np.datetime64 | dt.datetime | None = None,
) -> WindowSplit:
    """Split rows into daily (UTC midnight) or weekly (Monday 00:00 UTC) windows.

    Raises DriftInputError for an unknown cadence or timestamps without a time zone.
    Timestamps later than `now` (default: the current time) or missing are not windowed:
    their rows are in `rejected` and `errors` says why, so the caller records them.
    """
    if cadence not in CADENCES:
        raise DriftInputError(f"Unknown cadence {cadence!r}; use one of {', '.join(CADENCES)}.")
    ts = _to_utc_ns(timestamps)
    if now is None:
        now64 = np.datetime64(dt.datetime.now(dt.UTC).replace(tzinfo=None), "ns")
    elif isinstance(now, dt.datetime):
        if now.tzinfo is None:
            raise DriftInputError("`now` has no time zone.")
        now64 = np.datetime64(now.astimezone(dt.UTC).replace(tzinfo=None), "ns")
    else:
        now64 = np.datetime64(now, "ns")
    errors: list[str] = []
    missing = np.isnat(ts)
    future = ~missing & (ts > now64)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        errors.append(f"{int(missing.sum()):,} rows have no timestamp (first at row {i + 1}).")
    if future.any():
        i = int(np.flatnonzero(future)[0])
        errors.append(
            f"{int(future.sum()):,} timestamps are in the future (first at row {i + 1}: "
            f"{np.datetime_as_string(ts[i], unit='s')}Z); those rows were left out."
        )
    rejected = np.flatnonzero(missing | future)
    good = np.flatnonzero(~(missing | future))
    if good.size == 0:
        return WindowSplit([], rejected, errors)
    days = ts[good].astype("datetime64[D]")
    if cadence == "daily":
        starts = days
        step = np.timedelta64(1, "D")
    else:
        # 1970-01-01 was a Thursday: shift so that weeks start on Monday
        starts = ((days - np.datetime64("1969-12-29")) // 7) * 7 + np.datetime64("1969-12-29")
        starts = starts.astype("datetime64[D]")
        step = np.timedelta64(7, "D")
    order = np.argsort(starts, kind="stable")
    sorted_starts = starts[order]
    first, last = sorted_starts[0], sorted_starts[-1]
    all_starts = np.arange(first, last + step, step)
    cuts = np.searchsorted(sorted_starts, all_starts, side="left")
    cuts = np.append(cuts, sorted_starts.size)
    windows = [
        Window(
            start=s.astype(_NS),
            end=(s + step).astype(_NS),
            rows=np.sort(good[order[cuts[k] : cuts[k + 1]]]),
        )
        for k, s in enumerate(all_starts)
    ]
    return WindowSplit(windows, rejected, errors)
