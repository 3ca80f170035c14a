"""Validating one record batch of the mapped columns into a ``Batch``: 0/1 outcomes and
predictions, scores in [0, 1], non-negative weights, encoded sensitive attributes, and
the cap on distinct sensitive values; every error names the column and the data row."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.fairness import EncodedColumn, label_for
from core.scored_io.schema import _LABELS, Batch, ColumnMapping, ScoredDataError


class _GroupTracker:
    """Distinct labels per sensitive column, to stop at `max_groups` with the row."""

    def __init__(self, columns: Sequence[str], max_groups: int):
        self.max_groups = max_groups
        self.seen: dict[str, set[str]] = {c: set() for c in columns}

    def check(self, column: str, enc: EncodedColumn, start_row: int) -> None:
        seen = self.seen[column]
        labels = [label_for(v) for v in enc.labels]
        if enc.codes.size and enc.codes.min() < 0:
            labels.append(label_for(None))
        new = {lab for lab in labels if lab not in seen}
        if len(seen) + len(new) <= self.max_groups:
            seen |= new
            return
        u, first = np.unique(enc.codes, return_index=True)
        where = {labels[c]: int(i) for c, i in zip(u.tolist(), first.tolist(), strict=True)}
        ordered = sorted(new, key=lambda lab: where.get(lab, len(enc.codes)))
        crossing = ordered[self.max_groups - len(seen)]
        row = start_row + where[crossing] if crossing in where else None
        raise ScoredDataError(
            f"This sensitive attribute has more than {self.max_groups:,} distinct values "
            f"(value {crossing[:60]!r} is number {self.max_groups + 1:,}). A sensitive "
            "attribute must be a category such as race or sex, not an identifier.",
            column=column,
            row=row,
        )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _no_nulls(arr: pa.Array, column: str, role: str, start_row: int) -> None:
    if arr.null_count:
        i = _first(arr.is_null().to_numpy(zero_copy_only=False))
        raise ScoredDataError(f"The {role} is missing.", column=column, row=start_row + i)


def _integral(v: np.ndarray) -> bool:
    """Integers, or floats whose values are all whole (0.5 lies between 0 and 1)."""
    return v.dtype.kind in "iu" or bool((v == np.floor(v)).all())


def _binary(
    arr: pa.Array, column: str, role: str, start_row: int, plain: bool = False
) -> np.ndarray:
    """0/1 as int8. ``plain``: the column's first rows were 0/1, which the summaries'
    reader then parses as integers, so another spelling later is refused here too."""
    _no_nulls(arr, column, role, start_row)
    t = arr.type
    if pa.types.is_boolean(t):
        return arr.to_numpy(zero_copy_only=False).view(np.int8)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        v = arr.to_numpy(zero_copy_only=False)
        # two reductions settle the usual case; the mask that finds the row only on failure
        if v.size and not (v.min() >= 0 and v.max() <= 1 and _integral(v)):
            bad = ~((v == 0) | (v == 1))
            if bad.any():
                i = _first(bad)
                raise ScoredDataError(
                    f"The {role} {v[i].item()!r} is not 0 or 1.", column=column, row=start_row + i
                )
        return v.astype(np.int8)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr, t = pc.dictionary_encode(arr), None
    if t is None or pa.types.is_dictionary(t):
        values = arr.dictionary.to_pylist()
        if plain:
            lut = np.array([{"0": 0, "1": 1}.get(v, -1) for v in values] + [-1], np.int8)
        else:
            lut = np.array(
                [_LABELS.get(str(v).strip().lower(), -1) for v in values] + [-1], np.int8
            )
        out = lut[arr.indices.to_numpy(zero_copy_only=False)]
        if out.min(initial=0) < 0:
            i = _first(out < 0)
            value = values[arr.indices[i].as_py()]
            why = "is not 0/1 or true/false"
            if plain and str(value).strip().lower() in _LABELS:
                why = "is spelt differently from the first rows (0/1)"
            raise ScoredDataError(f"The {role} {value!r} {why}.", column=column, row=start_row + i)
        return out
    raise ScoredDataError(f"The {role} must be 0/1 or true/false, not {t}.", column=column)


def _parsed(arr: pa.Array, column: str, role: str, start_row: int) -> pa.Array:
    """Text read as numbers (the validating reader's), the first unparsable value named:
    found by halving the batch, each half cast in C (no pass in Python over the rows)."""
    try:
        return pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    lo, hi = 0, len(arr)  # arr[:lo] parses; the first bad value is in arr[lo:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(arr[lo:mid], pa.float64())
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    value = arr[lo].as_py()
    raise ScoredDataError(
        f"The {role} {str(value)[:40]!r} is not a number.", column=column, row=start_row + lo
    )


def _number(arr: pa.Array, column: str, role: str, start_row: int) -> np.ndarray:
    _no_nulls(arr, column, role, start_row)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = _parsed(arr, column, role, start_row)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise ScoredDataError(f"The {role} must be numbers, not {arr.type}.", column=column)
    v = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    # min and max settle the usual case (NaN fails both comparisons); the mask on failure
    if v.size and v.min() >= 0 and (v.max() <= 1 if role == "score" else v.max() < math.inf):
        return v
    if role == "score":
        bad, why = ~((v >= 0) & (v <= 1)), "outside [0, 1]"
    else:
        bad, why = ~((v >= 0) & (v < math.inf)), "negative or not finite"
    if bad.any():
        i = _first(bad)
        raise ScoredDataError(
            f"The {role} {v[i].item()!r} is {why}.", column=column, row=start_row + i
        )
    return v


def _sensitive(arr: pa.Array) -> EncodedColumn:
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    indices = arr.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return EncodedColumn(indices.to_numpy(zero_copy_only=False), arr.dictionary.to_pylist())


def _convert(
    rb: pa.RecordBatch, mapping: ColumnMapping, start: int, tracker, plain=frozenset()
) -> Batch:
    """``plain``: the outcome/prediction columns read as text that must stay 0/1."""
    col = rb.column
    y = _binary(col(mapping.outcome), mapping.outcome, "outcome", start, mapping.outcome in plain)
    score = weights = None
    if mapping.score:
        score = _number(col(mapping.score), mapping.score, "score", start)
    if mapping.weight:
        weights = _number(col(mapping.weight), mapping.weight, "weight", start)
    if mapping.prediction:
        yhat = _binary(
            col(mapping.prediction),
            mapping.prediction,
            "prediction",
            start,
            mapping.prediction in plain,
        )
    else:
        yhat = (score >= mapping.threshold).view(np.int8)
    sensitive = {}
    for name in mapping.sensitive:
        enc = _sensitive(col(name))
        tracker.check(name, enc, start)
        sensitive[name] = enc
    return Batch(start, y, yhat, score, weights, sensitive)
