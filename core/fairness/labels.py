"""Group labels of raw sensitive values (None, NaN and "" are ``MISSING_LABEL``) and the
integer encoding of a sensitive attribute (``EncodedColumn``, ``encode``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MISSING_LABEL = "(missing)"


def label_for(value: Any) -> str:
    """The group label of one raw value: None, NaN and "" are `MISSING_LABEL`.

    Integral floats are labelled as integers (1.0 -> "1") so a column that became float
    because of missing values keeps its labels.
    """
    if value is None:
        return MISSING_LABEL
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if value != "" else MISSING_LABEL
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        if math.isnan(f):
            return MISSING_LABEL
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)
    return str(value)


@dataclass(frozen=True)
class EncodedColumn:
    """One batch of a sensitive attribute: integer codes (-1 = missing) into raw labels."""

    codes: np.ndarray
    labels: Sequence[Any]


def encode(values: Any) -> EncodedColumn:
    """Encode raw values with numpy only (the convenience path; readers pass codes)."""
    if isinstance(values, EncodedColumn):
        return values
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError("a sensitive attribute must be one-dimensional")
    if arr.dtype.kind in "biuUS":
        uniq, inv = np.unique(arr, return_inverse=True)
        return EncodedColumn(inv.reshape(-1).astype(np.int64), uniq.tolist())
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        uniq, inv = np.unique(np.where(nan, 0.0, arr), return_inverse=True)
        codes = inv.reshape(-1).astype(np.int64)
        codes[nan] = -1
        return EncodedColumn(codes, uniq.tolist())
    table: dict[Any, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in arr), np.int64, len(arr))
    return EncodedColumn(codes, list(table))
