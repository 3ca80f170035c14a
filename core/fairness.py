"""Subgroup fairness from mergeable counts (issue #5). Pure: numpy only, no Django.

`GroupCounts` holds, for every observed combination of sensitive-attribute values (a
"cell"), the unweighted row counts and (optionally) the weighted sums of TN, FP, FN and
TP, plus per-cell score histograms for ROC AUC. One batch is accumulated with a single
vectorised pass (cell code * 4 + 2 * y + yhat, then `np.bincount`); partial results from
different batches, files or workers merge exactly (integer counts) or to rounding
(weighted sums). Every attribute's groups and every intersection of two or more
attributes are marginals of the cell table, so they all come from the same pass.

`summarise` turns counts into the JSON-safe summary the product stores: per-group rates
with Wilson intervals, disparities between groups (as fairlearn computes them) and against
a reference group, and the breaches of the policy's thresholds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MISSING_LABEL = "(missing)"
DEFAULT_SCORE_CAP = 100_000
GRID_BINS = 10_001  # score grid k / 10_000, k = 0..10_000, used past the cap
Z95 = 1.959963984540054
INTERSECTION_SEP = " x "
GROUP_SEP = " | "
SCHEMA_VERSION = 1

TN, FP, FN, TP = 0, 1, 2, 3  # confusion cell index = 2 * y + yhat
_ALL = (TN, FP, FN, TP)
_DENSE_LIMIT = 1 << 20  # bincount over every possible cell up to this many slots

# rate name -> (numerator cells, denominator cells, why the denominator can be empty)
RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...], str]] = {
    "base_rate": ((FN, TP), _ALL, "the group has no rows"),
    "selection_rate": ((FP, TP), _ALL, "the group has no rows"),
    "tpr": ((TP,), (FN, TP), "no actual positives (outcome 1) in the group"),
    "fpr": ((FP,), (TN, FP), "no actual negatives (outcome 0) in the group"),
    "fnr": ((FN,), (FN, TP), "no actual positives (outcome 1) in the group"),
    "precision": ((TP,), (FP, TP), "no predicted positives (prediction 1) in the group"),
    "accuracy": ((TN, TP), _ALL, "the group has no rows"),
}
# between-group disparity name -> the rate it compares (fairlearn's definitions)
DISPARITIES = {
    "demographic_parity": "selection_rate",
    "equal_opportunity": "tpr",
    "predictive_parity": "precision",
    "false_positive_rate_parity": "fpr",
}
# policy parameter -> (kind, disparity); other parameters are reported as ignored
THRESHOLDS = {
    "disparate_impact_min": ("min_ratio", "disparate_impact"),
    "equalized_odds_max_diff": ("max_diff", "equalized_odds"),
    "demographic_parity_max_diff": ("max_diff", "demographic_parity"),
    "equal_opportunity_max_diff": ("max_diff", "equal_opportunity"),
    "predictive_parity_max_diff": ("max_diff", "predictive_parity"),
}
FOUR_FIFTHS = 0.8


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


def _binary(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        return arr.view(np.int8)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be 0/1 or boolean, got dtype {arr.dtype}")
    if arr.size and (not arr.min() >= 0 or not arr.max() <= 1 or arr.dtype.kind == "f"):
        bad = ~((arr == 0) | (arr == 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} must be 0 or 1; row {i + 1} is {arr[i]!r}")
    return arr if arr.dtype == np.int8 else arr.astype(np.int8)


def _flat_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]] | None:
    """One int64 per key row, in the rows' lexicographic order (mixed radix over each
    column's range), the columns' minima and ranges; None if the ranges overflow int64."""
    if keys.ndim != 2 or keys.dtype.kind not in "iu":
        return None
    low, high = keys.min(axis=0), keys.max(axis=0)
    spans = tuple(int(h) - int(lo) + 1 for lo, h in zip(low.tolist(), high.tolist(), strict=True))
    if math.prod(spans) >= 2**62 or int(high.max()) >= 2**62:
        return None
    low = low.astype(np.int64)
    flat = np.zeros(len(keys), np.int64)
    for j, span in enumerate(spans):
        flat *= span
        flat += keys[:, j].astype(np.int64, copy=False) - low[j]
    return flat, low, spans


def _reduce(keys: np.ndarray, values: Sequence[np.ndarray]) -> tuple[np.ndarray, list]:
    """Sum `values` rows that share a key row; keys come back sorted (canonical order)."""
    if len(keys) == 0:
        return keys, list(values)
    flat = _flat_keys(keys)
    if flat is None:
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    else:
        # a 1-D unique of one int64 per row is an order of magnitude faster than
        # np.unique(axis=0), which sorts rows as opaque bytes (the benchmark in #5)
        u, inv = np.unique(flat[0], return_inverse=True)
        digits = np.unravel_index(u, flat[2])
        uniq = (np.stack(digits, axis=1) + flat[1]).astype(keys.dtype, copy=False)
    inv = inv.reshape(-1)
    out = []
    for v in values:
        acc = np.zeros((len(uniq), *v.shape[1:]), dtype=v.dtype)
        np.add.at(acc, inv, v)
        out.append(acc)
    return uniq, out


def _to_grid(scores: np.ndarray) -> np.ndarray:
    return np.rint(scores * (GRID_BINS - 1)) / (GRID_BINS - 1)


@dataclass(eq=False)
class GroupCounts:
    """Mergeable partial result: confusion counts per cell of sensitive values.

    `cells[i]` holds one code per attribute (into `labels[attribute]`); `n[i]` the
    unweighted TN, FP, FN, TP counts (int64, exact); `w`/`w2` the sums of weights and of
    squared weights (float64, only when `weighted`). With `scored`, `h_*` is a sparse
    histogram: per (cell, distinct score) the negatives and positives (`h_n`, and `h_w`
    weighted). Past `score_cap` histogram entries, scores are rounded to a grid of
    `GRID_BINS` points on [0, 1] and `score_grid` marks AUCs as approximate.
    """

    attributes: tuple[str, ...]
    weighted: bool = False
    scored: bool = False
    score_cap: int = DEFAULT_SCORE_CAP
    labels: list[list[str]] = field(default_factory=list)
    cells: np.ndarray | None = None
    n: np.ndarray | None = None
    w: np.ndarray | None = None
    w2: np.ndarray | None = None
    score_grid: bool = False
    h_cells: np.ndarray | None = None
    h_score: np.ndarray | None = None
    h_n: np.ndarray | None = None
    h_w: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.attributes = tuple(self.attributes)
        m = len(self.attributes)
        if m == 0 or len(set(self.attributes)) != m:
            raise ValueError("give one or more distinct sensitive attributes")
        if self.score_cap < 1:
            raise ValueError("score_cap must be positive")
        self.labels = [list(x) for x in self.labels] or [[] for _ in range(m)]
        self._index = [{lab: i for i, lab in enumerate(x)} for x in self.labels]
        empty = np.zeros((0, m), np.int64)
        self.cells = empty if self.cells is None else np.asarray(self.cells, np.int64)
        self.n = np.zeros((0, 4), np.int64) if self.n is None else np.asarray(self.n, np.int64)
        if self.weighted:
            self.w = np.zeros((0, 4)) if self.w is None else np.asarray(self.w, np.float64)
            self.w2 = np.zeros((0, 4)) if self.w2 is None else np.asarray(self.w2, np.float64)
        self.h_cells = empty if self.h_cells is None else np.asarray(self.h_cells, np.int64)
        self.h_score = np.zeros(0) if self.h_score is None else np.asarray(self.h_score, float)
        self.h_n = np.zeros((0, 2), np.int64) if self.h_n is None else np.asarray(self.h_n)
        if self.weighted:
            self.h_w = np.zeros((0, 2)) if self.h_w is None else np.asarray(self.h_w, float)

    @property
    def rows(self) -> int:
        return int(self.n.sum())

    # -- accumulation -------------------------------------------------------------------

    def _lut(self, a: int, col: EncodedColumn) -> np.ndarray:
        """Local code -> global code; the last slot serves code -1 (missing).

        Every local label is registered, used or not (a pass over the codes to find the
        used ones costs more than the whole count); `to_dict` drops labels without rows.
        """
        index, labels = self._index[a], self.labels[a]
        local = [label_for(v) for v in col.labels] + [MISSING_LABEL]
        for lab in local:
            if lab not in index:
                index[lab] = len(labels)
                labels.append(lab)
        return np.array([index[lab] for lab in local], np.int64)

    def add_batch(
        self,
        *,
        y: Any,
        yhat: Any,
        sensitive: Mapping[str, Any],
        weights: Any = None,
        score: Any = None,
    ) -> GroupCounts:
        """Accumulate one batch in place (and return self).

        `sensitive` maps every attribute to an `EncodedColumn` (fast) or raw values
        (encoded with `encode`). Raises ValueError on inconsistent or invalid input.
        """
        y8, p8 = _binary(y, "outcome"), _binary(yhat, "prediction")
        rows = len(y8)
        if len(p8) != rows:
            raise ValueError("outcome and prediction differ in length")
        if set(sensitive) != set(self.attributes):
            raise ValueError(f"sensitive attributes must be exactly {list(self.attributes)}")
        cols = [encode(sensitive[a]) for a in self.attributes]
        if any(len(c.codes) != rows for c in cols):
            raise ValueError("a sensitive attribute differs in length from the outcome")
        w = self._weights(weights, rows)
        s = self._scores(score, rows)
        if rows == 0:
            return self
        luts = [self._lut(a, c) for a, c in enumerate(cols)]
        shape = tuple(len(x) for x in self.labels)
        if math.prod(shape) >= 2**60:
            raise ValueError("too many combinations of sensitive values")
        strides = np.cumprod((1, *shape[:0:-1]))[::-1]
        total = math.prod(shape)
        # the narrowest index type that holds every slot: gathers and adds on 1-2 byte
        # arrays are several times faster than on int64 (see the speed check in #5)
        dt = np.uint8 if total <= 64 else np.uint16 if total <= 16384 else np.int64
        yy = y8.view(np.uint8) * np.uint8(2)
        yy += p8.view(np.uint8)
        mult = 1 if s is not None else 4
        idx = (luts[0] * int(strides[0] * mult)).astype(dt)[cols[0].codes]
        for a in range(1, len(cols)):
            idx += (luts[a] * int(strides[a] * mult)).astype(dt)[cols[a].codes]
        joint = idx if s is not None else None
        if s is not None:
            idx = idx * dt(4)
        idx += yy
        if total * 4 <= _DENSE_LIMIT:
            ids, slot = None, idx
            size = total
        else:
            ids, inv = np.unique(idx >> 2, return_inverse=True)
            slot = inv.reshape(-1) * 4 + yy
            size = len(ids)
        n = np.bincount(slot, minlength=size * 4).reshape(size, 4)
        keep = np.flatnonzero(n.any(axis=1))
        cell_ids = keep if ids is None else ids[keep]
        cells = np.stack(np.unravel_index(cell_ids, shape), axis=1).astype(np.int64)
        vals = [n[keep]]
        if w is not None:
            vals.append(np.bincount(slot, w, size * 4).reshape(size, 4)[keep])
            vals.append(np.bincount(slot, w * w, size * 4).reshape(size, 4)[keep])
        self._add_cells(cells, vals)
        if s is not None:
            self._add_hist(joint, s, y8, w, shape)
        return self

    def _weights(self, weights: Any, rows: int) -> np.ndarray | None:
        if (weights is not None) != self.weighted:
            raise ValueError("weights must be given exactly when the counts are weighted")
        if weights is None:
            return None
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (rows,):
            raise ValueError("weights differ in length from the outcome")
        if rows and not (w.min() >= 0 and np.isfinite(w.max())):
            i = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
            raise ValueError(f"weights must be finite and >= 0; row {i + 1} is {w[i]!r}")
        return w

    def _scores(self, score: Any, rows: int) -> np.ndarray | None:
        if (score is not None) != self.scored:
            raise ValueError("scores must be given exactly when the counts are scored")
        if score is None:
            return None
        s = np.asarray(score, dtype=np.float64)
        if s.shape != (rows,):
            raise ValueError("scores differ in length from the outcome")
        if rows and not (s.min() >= 0 and s.max() <= 1):
            i = int(np.flatnonzero(~((s >= 0) & (s <= 1)))[0])
            raise ValueError(f"scores must be in [0, 1]; row {i + 1} is {s[i]!r}")
        return s

    def _add_cells(self, cells: np.ndarray, vals: list[np.ndarray]) -> None:
        old = [self.n] + ([self.w, self.w2] if self.weighted else [])
        keys = np.concatenate([self.cells, cells])
        self.cells, out = _reduce(keys, [np.concatenate(p) for p in zip(old, vals, strict=True)])
        self.n = out[0]
        if self.weighted:
            self.w, self.w2 = out[1], out[2]

    def _add_hist(self, joint, s, y8, w, shape) -> None:
        uniq = None if self.score_grid else np.unique(s)
        grid = self.score_grid or len(uniq) > self.score_cap
        if grid:
            k = np.rint(s * (GRID_BINS - 1)).astype(np.int64)
            values = np.arange(GRID_BINS) / (GRID_BINS - 1)
        else:
            k = np.searchsorted(uniq, s)
            values = uniq
        key = joint.astype(np.int64) * len(values) + k
        if math.prod(shape) * len(values) * 2 <= _DENSE_LIMIT:
            ids, slot, size = None, key, math.prod(shape) * len(values)
        else:
            ids, inv = np.unique(key, return_inverse=True)
            slot, size = inv.reshape(-1), len(ids)
        slot = slot * 2 + y8
        hn = np.bincount(slot, minlength=size * 2).reshape(size, 2)
        keep = np.flatnonzero(hn.any(axis=1))
        pair = keep if ids is None else ids[keep]
        cells = np.stack(np.unravel_index(pair // len(values), shape), axis=1).astype(np.int64)
        vals = [hn[keep]]
        if w is not None:
            vals.append(np.bincount(slot, w, size * 2).reshape(size, 2)[keep])
        self._merge_hist(cells, values[pair % len(values)], vals, grid)

    def _merge_hist(self, cells, scores, vals, grid: bool) -> None:
        old = [self.h_n] + ([self.h_w] if self.weighted else [])
        if grid and not self.score_grid:
            self.h_score = _to_grid(self.h_score)
        if self.score_grid and not grid:
            scores = _to_grid(scores)
        self.score_grid = self.score_grid or grid
        parts = [np.concatenate(p) for p in zip(old, vals, strict=True)]
        all_cells = np.concatenate([self.h_cells, cells])
        all_scores = np.concatenate([self.h_score, scores])
        for _ in range(2):
            su, sk = np.unique(all_scores, return_inverse=True)
            keys = np.concatenate([all_cells, sk.reshape(-1, 1)], axis=1)
            ukeys, parts = _reduce(keys, parts)
            all_cells, all_scores = ukeys[:, :-1], su[ukeys[:, -1]] if len(ukeys) else su[:0]
            if self.score_grid or len(ukeys) <= self.score_cap:
                break
            self.score_grid, all_scores = True, _to_grid(all_scores)
        self.h_cells, self.h_score = all_cells, all_scores
        self.h_n = parts[0]
        if self.weighted:
            self.h_w = parts[1]

    # -- merging and serialisation --------------------------------------------------------

    def _check_compatible(self, other: GroupCounts) -> None:
        mine = (self.attributes, self.weighted, self.scored, self.score_cap)
        theirs = (other.attributes, other.weighted, other.scored, other.score_cap)
        if mine != theirs:
            raise ValueError(
                "cannot merge counts of different attributes, weighting, scores or score cap"
            )

    def copy(self) -> GroupCounts:
        return self.canonical()

    def merge(self, other: GroupCounts) -> GroupCounts:
        """A new GroupCounts holding both parts (neither input changes)."""
        self._check_compatible(other)
        out = self.copy()
        luts = []
        for a, labels in enumerate(other.labels):
            for lab in labels:
                if lab not in out._index[a]:
                    out._index[a][lab] = len(out.labels[a])
                    out.labels[a].append(lab)
            luts.append(np.array([out._index[a][lab] for lab in labels] + [0], np.int64))

        def remap(cells: np.ndarray) -> np.ndarray:
            if not len(cells):
                return cells
            return np.stack([luts[a][cells[:, a]] for a in range(len(luts))], axis=1)

        vals = [other.n] + ([other.w, other.w2] if other.weighted else [])
        out._add_cells(remap(other.cells), vals)
        if other.scored:
            hv = [other.h_n] + ([other.h_w] if other.weighted else [])
            out._merge_hist(remap(other.h_cells), other.h_score, hv, other.score_grid)
        return out

    __add__ = merge

    def __radd__(self, other: Any) -> GroupCounts:
        if other == 0:  # lets sum(partials) work
            return self.copy()
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GroupCounts) and self.to_dict() == other.to_dict()

    __hash__ = None  # mutable

    def canonical(self) -> GroupCounts:
        """An equal GroupCounts in canonical order: labels sorted (unused ones dropped),
        cells and histogram rows sorted. Summaries are computed from this form, so they
        depend only on the counts, never on the order rows or partials arrived in."""
        used = [set(self.cells[:, a].tolist()) | set(self.h_cells[:, a].tolist())
                for a in range(len(self.attributes))]  # fmt: skip
        orders = [
            sorted((i for i in range(len(x)) if i in u), key=lambda i, x=x: x[i])
            for x, u in zip(self.labels, used, strict=True)
        ]
        ranks = []
        for x, o in zip(self.labels, orders, strict=True):
            rank = np.full(len(x), -1, np.int64)
            rank[np.array(o, np.int64)] = np.arange(len(o))
            ranks.append(rank)

        def recode(cells: np.ndarray) -> np.ndarray:
            if not len(cells):
                return cells.copy()
            return np.stack([ranks[a][cells[:, a]] for a in range(len(ranks))], axis=1)

        cells, vals = _reduce(recode(self.cells), [self.n, *([self.w, self.w2] * self.weighted)])
        out = GroupCounts(
            attributes=self.attributes,
            weighted=self.weighted,
            scored=self.scored,
            score_cap=self.score_cap,
            labels=[[x[i] for i in o] for x, o in zip(self.labels, orders, strict=True)],
            cells=cells,
            n=vals[0],
            w=vals[1] if self.weighted else None,
            w2=vals[2] if self.weighted else None,
            score_grid=self.score_grid,
        )
        if self.scored and len(self.h_score):
            su, sk = np.unique(self.h_score, return_inverse=True)
            keys = np.concatenate([recode(self.h_cells), sk.reshape(-1, 1)], axis=1)
            hv = [self.h_n] + ([self.h_w] if self.weighted else [])
            ukeys, hv = _reduce(keys.astype(np.int64), hv)
            out.h_cells, out.h_score, out.h_n = ukeys[:, :-1], su[ukeys[:, -1]], hv[0]
            out.h_w = hv[1] if self.weighted else None
        return out

    def to_dict(self) -> dict:
        """Canonical JSON-safe form (see `canonical`); floats round-trip through JSON."""
        c = self.canonical()
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "attributes": list(c.attributes),
            "labels": c.labels,
            "weighted": c.weighted,
            "cells": c.cells.tolist(),
            "n": c.n.tolist(),
            "w": c.w.tolist() if c.weighted else None,
            "w2": c.w2.tolist() if c.weighted else None,
            "scored": c.scored,
            "score_cap": c.score_cap,
            "score_grid": c.score_grid,
        }
        if c.scored:
            out["h_cells"] = c.h_cells.tolist()
            out["h_score"] = c.h_score.tolist()
            out["h_n"] = c.h_n.tolist()
            out["h_w"] = c.h_w.tolist() if c.weighted else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupCounts:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("unknown GroupCounts schema version")
        m = len(data["attributes"])

        def arr(key: str, width: int, dtype) -> np.ndarray | None:
            if data.get(key) is None:
                return None
            return np.asarray(data[key], dtype=dtype).reshape(-1, width)

        return cls(
            attributes=tuple(data["attributes"]),
            weighted=bool(data["weighted"]),
            scored=bool(data["scored"]),
            score_cap=int(data["score_cap"]),
            labels=[list(x) for x in data["labels"]],
            cells=arr("cells", m, np.int64),
            n=arr("n", 4, np.int64),
            w=arr("w", 4, np.float64),
            w2=arr("w2", 4, np.float64),
            score_grid=bool(data["score_grid"]),
            h_cells=arr("h_cells", m, np.int64),
            h_score=np.asarray(data.get("h_score") or [], np.float64),
            h_n=arr("h_n", 2, np.int64),
            h_w=arr("h_w", 2, np.float64),
        )


def accumulate(
    *,
    y: Any,
    yhat: Any,
    sensitive: Mapping[str, Any],
    weights: Any = None,
    score: Any = None,
    score_cap: int = DEFAULT_SCORE_CAP,
) -> GroupCounts:
    """Counts for one in-memory dataset (one batch)."""
    counts = GroupCounts(
        attributes=tuple(sensitive),
        weighted=weights is not None,
        scored=score is not None,
        score_cap=score_cap,
    )
    return counts.add_batch(y=y, yhat=yhat, sensitive=sensitive, weights=weights, score=score)


# -- summary ----------------------------------------------------------------------------


def wilson_interval(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion p observed on n (possibly effective) rows."""
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z2 / (4.0 * n * n)) / denom
    low = 0.0 if p <= 0 else max(0.0, centre - half)  # exact ends: no rounding residue
    high = 1.0 if p >= 1 else min(1.0, centre + half)
    return low, high


def _rate(name: str, n: np.ndarray, w: np.ndarray, w2: np.ndarray, weighted: bool) -> dict:
    num, den, why = RATES[name]
    den_w = float(w[list(den)].sum())
    if not den_w > 0:
        if n[list(den)].sum() > 0:
            why = "the rows of its denominator have zero total weight"
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "reason": why}
    value = float(w[list(num)].sum()) / den_w
    if not weighted:
        n_used: float | None = int(n[list(den)].sum())
    else:
        sq = float(w2[list(den)].sum())
        ess = den_w * den_w / sq if sq > 0 and math.isfinite(sq) else math.nan
        n_used = ess if math.isfinite(ess) and ess > 0 else None
    if n_used is None:  # weights so small or large that their squares under/overflow
        return {"value": value, "ci_low": None, "ci_high": None, "n": None, "reason": None}
    low, high = wilson_interval(value, n_used)
    return {"value": value, "ci_low": low, "ci_high": high, "n": n_used, "reason": None}


def roc_auc_from_histogram(scores: np.ndarray, neg: np.ndarray, pos: np.ndarray) -> float | None:
    """ROC AUC of (score, negatives, positives) rows, ties counted half (as sklearn)."""
    su, inv = np.unique(scores, return_inverse=True)
    negs = np.bincount(inv.reshape(-1), weights=neg, minlength=len(su))[::-1]
    poss = np.bincount(inv.reshape(-1), weights=pos, minlength=len(su))[::-1]
    p_total, n_total = float(poss.sum()), float(negs.sum())
    if not (p_total > 0 and n_total > 0):
        return None
    poss, negs = poss / p_total, negs / n_total  # (as sklearn: tpr, fpr) never underflow
    above = np.cumsum(poss) - poss
    return float(np.sum(negs * (above + 0.5 * poss)))


def _group(values, n, w, w2, counts: GroupCounts, hmask, min_group_size: int) -> dict:
    weighted = counts.weighted
    count = int(n.sum())
    group = {
        "label": GROUP_SEP.join(values),
        "values": list(values),
        "count": count,
        "weighted_count": float(w.sum()),
        "small_group": count < min_group_size,
        "metrics": {name: _rate(name, n, w, w2, weighted) for name in RATES},
        "roc_auc": None,
    }
    if counts.scored:
        hist = counts.h_w if weighted else counts.h_n
        value = roc_auc_from_histogram(
            counts.h_score[hmask], hist[hmask, 0].astype(float), hist[hmask, 1].astype(float)
        )
        group["roc_auc"] = {
            "value": value,
            "approximate": counts.score_grid,
            "reason": None if value is not None else "the group lacks positives or negatives",
        }
    return group


def _between(groups: list[dict], metric: str, min_group_size: int) -> dict:
    vals = [(g["metrics"][metric]["value"], g["label"]) for g in groups]
    defined = [(v, lab) for v, lab in vals if v is not None]
    out = {
        "metric": metric,
        "difference": None,
        "ratio": None,
        "min_group": None,
        "max_group": None,
        "undefined_groups": [lab for v, lab in vals if v is None],
        "reason": None,
    }
    if len(defined) < 2:
        out["reason"] = (
            f"fewer than two groups of at least {min_group_size} rows with a defined {metric}"
        )
        return out
    low = min(defined, key=lambda t: t[0])
    high = max(defined, key=lambda t: t[0])
    out.update(difference=high[0] - low[0], min_group=low[1], max_group=high[1])
    if high[0] > 0:
        out["ratio"] = low[0] / high[0]
    else:
        out["reason"] = f"every compared group has a {metric} of 0 (ratio undefined)"
    return out


def _equalized_odds(tpr: dict, fpr: dict) -> dict:
    out = {"difference": None, "ratio": None, "driver": None, "groups": None, "reason": None}
    if tpr["difference"] is None or fpr["difference"] is None:
        out["reason"] = "needs both the TPR and the FPR disparities: " + "; ".join(
            d["reason"] for d in (tpr, fpr) if d["reason"]
        )
        return out
    driver = tpr if tpr["difference"] >= fpr["difference"] else fpr
    out.update(
        difference=driver["difference"],
        driver=driver["metric"],
        groups=[driver["min_group"], driver["max_group"]],
    )
    if tpr["ratio"] is not None and fpr["ratio"] is not None:
        out["ratio"] = min(tpr["ratio"], fpr["ratio"])
    else:
        out["reason"] = "ratio undefined: a TPR or FPR is 0 in every compared group"
    return out


def _pick_reference(groups, compared, wanted, name, min_group_size) -> tuple[dict | None, dict]:
    if wanted not in (None, "best"):
        found = next((g for g in groups if g["label"] == wanted), None)
        if found is not None and not found["small_group"]:
            return found, {"group": found["label"], "rule": "named", "reason": None}
        if found is not None:
            reason = f"the reference group {wanted!r} has fewer than {min_group_size} rows"
            return None, {"group": None, "rule": "named", "reason": reason}
    candidates = [g for g in compared if g["metrics"]["selection_rate"]["value"] is not None]
    note = None
    if wanted not in (None, "best"):
        note = f"{wanted!r} is not a group of {name}; the highest selection rate is used"
    if not candidates:
        why = f"no group of at least {min_group_size} rows"
        return None, {"group": None, "rule": "best", "reason": why}
    best = max(candidates, key=lambda g: g["metrics"]["selection_rate"]["value"])
    return best, {"group": best["label"], "rule": "best", "reason": note}


def _against(group: dict, ref: dict) -> dict:
    out: dict[str, Any] = {"group": group["label"], "is_reference": group is ref}
    for name in ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"):
        g, r = group["metrics"][name]["value"], ref["metrics"][name]["value"]
        diff = g - r if g is not None and r is not None else None
        ratio = g / r if g is not None and r is not None and r > 0 else None
        out[name] = {"difference": diff, "ratio": ratio}
    di = out["selection_rate"]["ratio"]
    out["disparate_impact"] = di
    out["four_fifths_rule_breached"] = None if di is None else di < FOUR_FIFTHS
    return out


def _parse_thresholds(thresholds: Mapping[str, Any] | None) -> tuple[dict, list[str]]:
    used, ignored = {}, []
    for key, value in (thresholds or {}).items():
        if key not in THRESHOLDS:
            ignored.append(key)
        elif value is None:
            continue
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"threshold {key} must be a number >= 0, got {value!r}")
        else:
            used[key] = float(value)
    return used, sorted(ignored)


def _breaches(block: dict, used: dict) -> list[dict]:
    out = []
    where = {"attribute": block["name"], "columns": block["columns"]}
    where["intersection"] = block["intersection"]
    for param, limit in used.items():
        kind, metric = THRESHOLDS[param]
        if kind == "min_ratio":
            ref = block["reference"]["group"]
            for row in block["against_reference"]:
                di = row["disparate_impact"]
                if row["is_reference"] or di is None or not di < limit:
                    continue
                msg = (
                    f"Disparate impact of {row['group']!r} against {ref!r} on {block['name']}"
                    f" is {di:.3f}, below the policy minimum {limit:g}."
                )
                groups = [row["group"], ref]
                out.append({**where, "metric": metric, "parameter": param, "groups": groups,
                            "value": di, "threshold": limit, "message": msg})  # fmt: skip
        else:
            d = block["between_groups"][metric]
            value = d["difference"]
            if value is None or not value > limit:
                continue
            groups = d["groups"] if metric == "equalized_odds" else [d["min_group"], d["max_group"]]
            label = metric.replace("_", " ")
            msg = (
                f"The {label} difference on {block['name']} is {value:.3f} (between "
                f"{groups[0]!r} and {groups[1]!r}), above the policy maximum {limit:g}."
            )
            out.append({**where, "metric": metric, "parameter": param, "groups": groups,
                        "value": value, "threshold": limit, "message": msg})  # fmt: skip
    return out


def summarise(
    counts: GroupCounts,
    *,
    reference: str | Mapping[str, str] = "best",
    min_group_size: int = 30,
    thresholds: Mapping[str, Any] | None = None,
) -> dict:
    """The JSON-safe bias summary of `counts`; `notes` in the result say how it is computed.

    `reference` is "best" (the compared group with the highest selection rate), a group
    label, or a mapping attribute name -> label. Raises ValueError on bad arguments.
    """
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
        raise ValueError("min_group_size must be an integer")
    if min_group_size < 0:
        raise ValueError("min_group_size must be >= 0")
    used, ignored = _parse_thresholds(thresholds)
    counts = counts.canonical()
    m = len(counts.attributes)
    n = counts.n
    w = counts.w if counts.weighted else n.astype(np.float64)
    w2 = counts.w2 if counts.weighted else w
    every = np.ones(len(counts.h_score), bool)
    overall = _group(["all"], n.sum(0), w.sum(0), w2.sum(0), counts, every, 0)
    overall.pop("small_group")
    subsets = [(a,) for a in range(m)]
    if m > 1:
        subsets += [c for k in range(2, m + 1) for c in itertools.combinations(range(m), k)]
    blocks = []
    for subset in subsets:
        cols = [counts.attributes[a] for a in subset]
        name = INTERSECTION_SEP.join(cols)
        keys, (gn, gw, gw2) = _reduce(counts.cells[:, list(subset)], [n, w, w2])
        hkeys = counts.h_cells[:, list(subset)]
        groups = []
        for i, key in enumerate(keys):
            values = [counts.labels[a][c] for a, c in zip(subset, key, strict=True)]
            hmask = (hkeys == key).all(axis=1)
            groups.append(_group(values, gn[i], gw[i], gw2[i], counts, hmask, min_group_size))
        groups.sort(key=lambda g: [(v == MISSING_LABEL, v) for v in g["values"]])
        compared = [g for g in groups if not g["small_group"]]
        between = {
            d: _between(compared, metric, min_group_size) for d, metric in DISPARITIES.items()
        }
        between["equalized_odds"] = _equalized_odds(
            between["equal_opportunity"], between["false_positive_rate_parity"]
        )
        wanted = reference.get(name, "best") if isinstance(reference, Mapping) else reference
        ref, ref_info = _pick_reference(groups, compared, wanted, name, min_group_size)
        block = {
            "name": name,
            "columns": cols,
            "intersection": len(subset) > 1,
            "groups": groups,
            "compared_groups": [g["label"] for g in compared],
            "excluded_small_groups": [g["label"] for g in groups if g["small_group"]],
            "between_groups": between,
            "reference": ref_info,
            "against_reference": [] if ref is None else [_against(g, ref) for g in compared],
        }
        block["breaches"] = _breaches(block, used)
        blocks.append(block)
    return {
        "schema_version": SCHEMA_VERSION,
        "rows": counts.rows,
        "weighted": counts.weighted,
        "total_weight": float(w.sum()),
        "attributes": list(counts.attributes),
        "min_group_size": min_group_size,
        "reference": dict(reference) if isinstance(reference, Mapping) else reference,
        "confidence_interval": {"method": "wilson", "level": 0.95, "z": Z95},
        "roc_auc": {
            "available": counts.scored,
            "approximate": counts.score_grid,
            "grid_points": GRID_BINS if counts.score_grid else None,
        },
        "overall": overall,
        "by_attribute": blocks,
        "thresholds": used,
        "thresholds_ignored": ignored,
        "breaches": [b for block in blocks for b in block["breaches"]],
        "notes": _notes(counts, min_group_size),
    }


def _notes(counts: GroupCounts, min_group_size: int) -> list[str]:
    notes = [
        "Each rate carries a 95% Wilson score interval. Its n is the number of rows in the "
        "rate's denominator (all rows; actual positives for TPR/FNR; actual negatives for "
        "FPR; predicted positives for precision)"
        + (
            "; with weights the rate is the weighted proportion and n is Kish's effective "
            "sample size (sum of w)^2 / (sum of w^2) over those rows."
            if counts.weighted
            else "."
        ),
        f"Groups with fewer than {min_group_size} rows are reported but flagged small_group "
        "and left out of every disparity comparison.",
        "A rate whose denominator is empty is null with a reason; groups with an undefined "
        "rate are left out of the disparities on that rate.",
        "Between groups (as fairlearn): difference = max - min and ratio = min / max over "
        "the compared groups; equalized odds takes the larger of the TPR and FPR "
        "differences and the smaller of their ratios. Disparate impact is the selection-rate "
        "ratio to the reference group; the four-fifths rule flags ratios below 0.8.",
        f"Missing sensitive values (empty, null, NaN) form the group {MISSING_LABEL!r}.",
    ]
    if counts.score_grid:
        notes.append(
            f"ROC AUC is approximate: more than {counts.score_cap} distinct scores, so scores "
            f"were rounded to a grid of {GRID_BINS} points on [0, 1]."
        )
    return notes
