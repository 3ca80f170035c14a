"""Checks of a production batch's columns and timestamps (issue #6). Pure: numpy, no
Django.

``monitoring.services`` reads the stored file batch by batch and hands these functions
plain values: the file's column names, the configured columns, the timestamps of each
batch as UTC ``datetime64[ns]`` (NaT for a missing one). They say which columns are
missing, what is worth recording about the others, and which rows no window will count
(no timestamp, or one in the future).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# columns named in a problem about columns not in the configuration
SHOWN_EXTRA_COLUMNS = 20


def missing_columns(needed: Iterable[str], columns: Sequence[str]) -> list[str]:
    """The named columns (each once, in order; blanks ignored) that ``columns`` lacks."""
    return [c for c in dict.fromkeys(needed) if c and c not in columns]


def column_problems(
    *, features: Sequence[str], roles: Iterable[str], columns: Sequence[str]
) -> list[str]:
    """What a production file's columns leave out or add, for the batch's record: missing
    feature columns (reported as missing in the windows) and columns that are neither a
    feature nor a configured role (not compared)."""
    problems: list[str] = []
    absent = [c for c in features if c not in columns]
    if absent:
        problems.append(
            f"Missing feature column(s) {', '.join(map(repr, absent))}: reported as missing "
            "in the windows."
        )
    known = {*features, *roles}
    extra = [c for c in columns if c not in known]
    if extra:
        problems.append(
            f"Column(s) not in the monitoring configuration, not compared: "
            f"{', '.join(map(repr, extra[:SHOWN_EXTRA_COLUMNS]))}."
        )
    return problems


def batch_columns(
    *,
    timestamp: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    prediction: str,
    score: str,
    id_column: str,
    sensitive: Sequence[str],
) -> tuple[list[str], list[str]]:
    """(columns to read, columns to read as text) of a production batch for the window
    computation; each once, blanks (unconfigured roles) left out."""
    needed = [timestamp, *numeric, *categorical, prediction, score, id_column, *sensitive]
    text = [timestamp, id_column, *categorical, *sensitive]
    return [c for c in dict.fromkeys(needed) if c], [c for c in text if c]


def _aware(x: np.datetime64 | None) -> dt.datetime | None:
    if x is None:
        return None
    return dt.datetime.fromisoformat(str(x.astype("datetime64[us]"))).replace(tzinfo=dt.UTC)


@dataclass
class TimestampSpan:
    """The rows of a production file counted batch by batch: how many, how many have no
    timestamp or one after ``now`` (rejected: no window counts them), and the earliest
    and latest of the others."""

    now: np.datetime64
    rows: int = 0
    rejected: int = 0
    lo: np.datetime64 | None = None
    hi: np.datetime64 | None = None

    @classmethod
    def until(cls, now: dt.datetime) -> TimestampSpan:
        """An empty span for timestamps up to ``now`` (an aware date-time)."""
        return cls(now=np.datetime64(now.astimezone(dt.UTC).replace(tzinfo=None), "ns"))

    def add(self, ts: np.ndarray) -> None:
        """Count one batch of UTC ``datetime64[ns]`` timestamps."""
        self.rows += len(ts)
        bad = np.isnat(ts) | (ts > self.now)
        self.rejected += int(bad.sum())
        good = ts[~bad]
        if good.size:
            self.lo = good.min() if self.lo is None else min(self.lo, good.min())
            self.hi = good.max() if self.hi is None else max(self.hi, good.max())

    @property
    def all_rejected(self) -> bool:
        """Rows were counted and none has a usable timestamp."""
        return bool(self.rows) and self.rejected == self.rows

    def problems(self) -> list[str]:
        """The problem to record about rejected rows, if any."""
        if not self.rejected:
            return []
        return [
            f"{self.rejected:,} row(s) have no timestamp or one in the future; they are left "
            "out of every window."
        ]

    @property
    def start(self) -> dt.datetime | None:
        """The earliest usable timestamp (UTC), None without one."""
        return _aware(self.lo)

    @property
    def end(self) -> dt.datetime | None:
        """The latest usable timestamp (UTC), None without one."""
        return _aware(self.hi)


def first_not_number(values: Sequence) -> int | None:
    """The 0-based index of the first value (text or other) that is not a number (None
    and blanks are missing values, not errors); None when every value is one."""
    for i, v in enumerate(values):
        if v is None or isinstance(v, bool | int | float):
            continue
        text = str(v).strip()
        if not text:
            continue
        try:
            float(text)
        except ValueError:
            return i
    return None
