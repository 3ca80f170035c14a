"""Mergeable subgroup counts (``GroupCounts``): confusion counts per cell of sensitive
values, optionally weighted, with per-cell score histograms for ROC AUC, accumulated
in one vectorised pass per batch and merged exactly across batches, files and workers;
``accumulate`` counts one in-memory dataset."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.fairness import stored
from core.fairness.labels import MISSING_LABEL, EncodedColumn, encode, label_for

DEFAULT_SCORE_CAP = 100_000
GRID_BINS = 10_001  # score grid k / 10_000, k = 0..10_000, used past the cap
SCHEMA_VERSION = 1  # of a summary's result; the stored counts': core.fairness.stored
_DENSE_LIMIT = 1 << 20  # bincount over every possible cell up to this many slots
_ROUND = 2.0**52  # x + 2**52 - 2**52 rounds 0 <= x < 2**51 to an integer, half to even


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


def _distinct_scores(s: np.ndarray, cap: int) -> np.ndarray | None:
    """np.unique(s), or None when `s` has more than `cap` distinct values: seen on a
    prefix when it can be (a sort of the first rows instead of the batch's)."""
    head = s[: cap + 1 + cap // 8]
    if len(head) < len(s) and len(np.unique(head)) > cap:
        return None
    uniq = np.unique(s)
    return None if len(uniq) > cap else uniq


def _grid_index(scores: np.ndarray) -> np.ndarray:
    return np.rint(scores * (GRID_BINS - 1)).astype(np.int64)


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
        self._buffers: dict[Any, np.ndarray] = {}  # scratch space of `_grid_slots`
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
        # np.take: indexing with the readers' int32 codes first copies them to intp
        idx = np.take((luts[0] * int(strides[0] * mult)).astype(dt), cols[0].codes)
        for a in range(1, len(cols)):
            idx += np.take((luts[a] * int(strides[a] * mult)).astype(dt), cols[a].codes)
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

    def _codes(self, cells: Sequence[Sequence[Any]]) -> np.ndarray:
        """Codes of raw sensitive values (one tuple per row, labelled with `label_for`)."""
        m = len(self.attributes)
        out = np.zeros((len(cells), m), np.int64)
        for i, values in enumerate(cells):
            if len(values) != m:
                raise ValueError(f"give {m} sensitive values per row")
            for a, value in enumerate(values):
                lab = label_for(value)
                code = self._index[a].get(lab)
                if code is None:
                    code = self._index[a][lab] = len(self.labels[a])
                    self.labels[a].append(lab)
                out[i, a] = code
        return out

    def add_counts(
        self, *, cells: Sequence[Sequence[Any]], n: Any, w: Any = None, w2: Any = None
    ) -> GroupCounts:
        """Accumulate counts summed elsewhere (a database's GROUP BY) in place.

        `cells[i]` holds raw sensitive values, `n[i]` the TN, FP, FN, TP row counts and,
        when weighted, `w[i]`/`w2[i]` the sums of weights and squared weights. Rows whose
        values have the same labels (None, NaN, "") add up, as rows of a file do.
        """
        if (w is not None) != self.weighted or (w2 is not None) != self.weighted:
            raise ValueError("weight sums must be given exactly when the counts are weighted")
        codes = self._codes(cells)
        vals = [np.asarray(n, np.int64).reshape(-1, 4)]
        if self.weighted:
            vals += [np.asarray(w, np.float64).reshape(-1, 4)]
            vals += [np.asarray(w2, np.float64).reshape(-1, 4)]
        if len(codes):
            self._add_cells(codes, vals)
        return self

    def add_score_counts(
        self, *, cells: Sequence[Sequence[Any]], scores: Any, n: Any, w: Any = None, grid: bool
    ) -> GroupCounts:
        """Accumulate a score histogram summed elsewhere in place: per row, raw sensitive
        values, a score (on the grid when `grid`), the negatives and positives (`n`) and
        their weights (`w`). Past `score_cap` entries it turns to the grid, as a file's."""
        if not self.scored:
            raise ValueError("these counts carry no scores")
        if (w is not None) != self.weighted:
            raise ValueError("weight sums must be given exactly when the counts are weighted")
        codes = self._codes(cells)
        if not len(codes):
            return self
        vals = [np.asarray(n, np.int64).reshape(-1, 2)]
        if self.weighted:
            vals.append(np.asarray(w, np.float64).reshape(-1, 2))
        self._merge_hist(codes, np.asarray(scores, np.float64), vals, grid)
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
        uniq = None if self.score_grid else _distinct_scores(s, self.score_cap)
        grid = uniq is None
        values = np.arange(GRID_BINS) / (GRID_BINS - 1) if grid else uniq
        size = math.prod(shape) * len(values)
        ids = None
        if grid and size * 2 <= _DENSE_LIMIT:
            slot = self._grid_slots(joint, s, y8)
        else:
            k = _grid_index(s) if grid else np.searchsorted(uniq, s)
            slot = joint.astype(np.int64) * len(values) + k
            if size * 2 > _DENSE_LIMIT:
                ids, inv = np.unique(slot, return_inverse=True)
                slot, size = inv.reshape(-1), len(ids)
            slot = slot * 2 + y8
        hn = np.bincount(slot, minlength=size * 2).reshape(size, 2)
        hw = None if w is None else np.bincount(slot, w, size * 2).reshape(size, 2)
        if grid and ids is None and (self.score_grid or not len(self.h_score)):
            self._add_dense_grid(hn, hw, shape)
            return
        keep = np.flatnonzero(hn.any(axis=1))
        pair = keep if ids is None else ids[keep]
        cells = np.stack(np.unravel_index(pair // len(values), shape), axis=1).astype(np.int64)
        vals = [hn[keep]]
        if hw is not None:
            vals.append(hw[keep])
        self._merge_hist(cells, values[pair % len(values)], vals, grid)

    def _grid_slots(self, joint: np.ndarray, s: np.ndarray, y8: np.ndarray) -> np.ndarray:
        """(cell * GRID_BINS + k) * 2 + y of each row, k = np.rint(s * (GRID_BINS - 1)),
        in two buffers kept across batches: fresh 8-byte-per-row temporaries cost more in
        page faults than their arithmetic (issue 18). Rounding by adding and subtracting
        2**52 is np.rint's, half to even, for 0 <= s <= 1, and five times faster."""
        rows = len(s)
        f = self._scratch(np.float64, rows)
        out = self._scratch(np.intp, rows)
        np.multiply(s, GRID_BINS - 1, out=f)
        np.add(f, _ROUND, out=f)
        np.subtract(f, _ROUND, out=f)
        np.multiply(f, 2.0, out=f)
        np.add(f, y8, out=f)
        np.multiply(joint, np.intp(2 * GRID_BINS), out=out)
        np.add(out, f, out=out, casting="unsafe")  # exact: whole numbers below 2**53
        return out

    def _scratch(self, dtype, rows: int) -> np.ndarray:
        buf = self._buffers.get(dtype)
        if buf is None or len(buf) < rows:
            buf = self._buffers[dtype] = np.empty(rows, dtype)
        return buf[:rows]

    def _add_dense_grid(self, hn: np.ndarray, hw: np.ndarray | None, shape) -> None:
        """Merge a batch's dense grid histogram (one row per cell x grid point, in that
        order) into the stored one, itself on the grid: the stored entries are added at
        their slots, each at most once, so the sums and their order (cells, then score)
        are those of `_merge_hist`, without sorting anything (the benchmark in #18).
        Column by column and with `np.take`: row-wise fancy indexing of an (n, 2) array
        costs ten times more here."""
        used = (hn[:, 0] | hn[:, 1]) != 0
        if len(self.h_score):
            k = np.rint(self.h_score * (GRID_BINS - 1)).astype(np.int64)
            old = np.ravel_multi_index(tuple(self.h_cells.T), shape) * GRID_BINS + k
            for j in range(2):
                hn[:, j][old] += self.h_n[:, j]
                if hw is not None:
                    hw[:, j][old] += self.h_w[:, j]
            used[old] = True
        keep = np.flatnonzero(used)
        cell_ids, k = np.divmod(keep, GRID_BINS)
        every = np.stack(np.unravel_index(np.arange(math.prod(shape)), shape), axis=1)
        self.h_cells = np.take(every.astype(np.int64), cell_ids, axis=0)
        self.h_score = k / (GRID_BINS - 1)
        self.h_n = np.take(hn, keep, axis=0)
        if hw is not None:
            self.h_w = np.take(hw, keep, axis=0)
        self.score_grid = True

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
        used = [np.zeros(len(x), bool) for x in self.labels]
        for a, seen in enumerate(used):
            seen[self.cells[:, a]] = True
            seen[self.h_cells[:, a]] = True
        orders = [
            sorted(np.flatnonzero(u).tolist(), key=lambda i, x=x: x[i])
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
            h_cells = recode(self.h_cells)
            order = _distinct_order(h_cells, self.h_score)
            if order is not None:
                # rows already distinct: sorting them is all the reduction would do
                # (+ 0.0: a sum from zero, as the reduction's, never keeps a -0.0)
                out.h_cells, out.h_score = h_cells[order], self.h_score[order].copy()
                out.h_n = self.h_n[order].copy()
                out.h_w = self.h_w[order] + 0.0 if self.weighted else None
                return out
            su, sk = np.unique(self.h_score, return_inverse=True)
            keys = np.concatenate([h_cells, sk.reshape(-1, 1)], axis=1)
            hv = [self.h_n] + ([self.h_w] if self.weighted else [])
            ukeys, hv = _reduce(keys.astype(np.int64), hv)
            out.h_cells, out.h_score, out.h_n = ukeys[:, :-1], su[ukeys[:, -1]], hv[0]
            out.h_w = hv[1] if self.weighted else None
        return out

    def to_dict(self) -> dict:
        """Canonical JSON-safe form (see `canonical`), arrays packed (schema 2 of
        ``core.fairness.stored``): what summaries and their shares store."""
        return stored.packed_dict(self.canonical(), GRID_BINS)

    def plain_dict(self) -> dict:
        """Canonical JSON-safe form with the arrays as lists (schema 1, as stored before
        issue 18): what fingerprints hash, so theirs stay comparable."""
        return stored.plain_dict(self.canonical())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupCounts:
        """Counts from either stored form (schema 1 or 2). Raises ValueError."""
        return cls(**stored.fields_from_dict(data, GRID_BINS))


def _distinct_order(cells: np.ndarray, scores: np.ndarray) -> np.ndarray | slice | None:
    """The order that sorts histogram rows by (cell, score) when no two rows share a
    cell and score (each run of a cell already sorted by score, as counting leaves
    them); None otherwise (ties, unsorted runs: the caller reduces)."""
    flat = _flat_keys(cells)
    if flat is None:
        return None
    key = flat[0]
    order: np.ndarray | slice = slice(None)
    if len(key) > 1 and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        key = key[order]
    s = scores[order]
    same_cell = key[1:] == key[:-1]
    if not (s[1:][same_cell] > s[:-1][same_cell]).all():
        return None
    return order


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
