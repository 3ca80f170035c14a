"""Performance drift: accuracy, precision, recall and ROC AUC of the rows whose outcome
is present, overall and per sensitive group (``performance``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.drift.profiles import _as_float
from core.fairness import MISSING_LABEL, encode, label_for, roc_auc_from_histogram


def _binary_or_missing(values: Any, name: str, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 int8 values, present mask); NaN/None mark missing. Raises ValueError naming
    the row (counted from ``offset`` + 1)."""
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        return arr.astype(np.int8), np.ones(arr.shape, bool)
    f = _as_float(arr)
    present = ~np.isnan(f)
    bad = present & (f != 0) & (f != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = arr[i].item() if isinstance(arr[i], np.generic) else arr[i]
        raise ValueError(f"{name} must be 0 or 1; row {offset + i + 1} is {value!r}")
    return np.where(present, f, 0).astype(np.int8), present


def _confusion(y: np.ndarray, yhat: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of 0/1 outcomes and predictions."""
    n = int(y.size)
    tp = int(np.count_nonzero((y == 1) & (yhat == 1)))
    fp = int(np.count_nonzero((y == 0) & (yhat == 1)))
    fn = int(np.count_nonzero((y == 1) & (yhat == 0)))
    return tp, fp, fn, n - tp - fp - fn


def _metrics(y: np.ndarray, yhat: np.ndarray, score: np.ndarray | None) -> dict:
    auc = None
    if score is not None:
        auc = roc_auc_from_histogram(score, (y == 0).astype(np.float64), y.astype(np.float64))
    return _from_counts(*_confusion(y, yhat), has_score=score is not None, auc=auc)


def _from_counts(tp: int, fp: int, fn: int, tn: int, *, has_score: bool, auc) -> dict:
    n = tp + fp + fn + tn
    notes = []
    precision = tp / (tp + fp) if tp + fp else None
    if precision is None:
        notes.append("precision undefined: no predicted positives")
    recall = tp / (tp + fn) if tp + fn else None
    if recall is None:
        notes.append("recall undefined: no actual positives")
    if has_score and auc is None:
        notes.append("ROC AUC undefined: only one outcome class")
    return {
        "n": n,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "accuracy": (tp + tn) / n if n else None,
        "precision": precision,
        "recall": recall,
        "roc_auc": auc,
        "notes": notes,
    }


def _kept(y_true: Any, y_pred: Any, score: Any, offset: int = 0):
    """(outcomes, predictions, scores or None, mask of the rows with all three)."""
    y, present = _binary_or_missing(y_true, "outcome", offset)
    yhat, pred_present = _binary_or_missing(y_pred, "prediction", offset)
    if yhat.shape != y.shape:
        raise ValueError("outcomes and predictions have different lengths")
    keep = present & pred_present
    s = None
    if score is not None:
        s = _as_float(score)
        if s.shape != y.shape:
            raise ValueError("scores and outcomes have different lengths")
        keep &= np.isfinite(s)
    return y, yhat, s, keep


def performance(
    y_true: Any,
    y_pred: Any,
    *,
    score: Any = None,
    groups: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Accuracy, precision, recall and ROC AUC of the rows whose outcome is present,
    overall and per group of each sensitive attribute (`groups`: name -> values).

    Equal to scikit-learn's accuracy_score, precision_score, recall_score and
    roc_auc_score where those are defined; where they are not (no predicted positives, one
    outcome class) the metric is None with a note. Raises ValueError for outcomes or
    predictions that are not 0/1 or arrays of different lengths.
    """
    y, yhat, s, keep = _kept(y_true, y_pred, score)
    out: dict[str, Any] = {
        "rows": int(y.size),
        "rows_with_outcome": int(np.count_nonzero(keep)),
        "overall": None,
        "groups": {},
    }
    if not keep.any():
        out["message"] = "No rows with an outcome in this window."
        return out
    yk, pk, sk = y[keep], yhat[keep], (s[keep] if s is not None else None)
    out["overall"] = _metrics(yk, pk, sk)
    for attr, values in (groups or {}).items():
        arr = np.asarray(values, dtype=object)
        if arr.shape != y.shape:
            raise ValueError(f"sensitive attribute {attr!r} has a different length")
        enc = encode(arr[keep])
        labels = [label_for(v) for v in enc.labels]
        codes = np.asarray(enc.codes)
        per: dict[str, dict] = {}
        for label in sorted(set(labels) | ({MISSING_LABEL} if (codes < 0).any() else set())):
            idx = [i for i, lab in enumerate(labels) if lab == label]
            mask = np.isin(codes, idx) | ((codes < 0) if label == MISSING_LABEL else False)
            per[label] = _metrics(yk[mask], pk[mask], sk[mask] if sk is not None else None)
        out["groups"][attr] = per
    return out


class PerformanceAccumulator:
    """``performance`` (overall, no groups) of rows given batch by batch, in bounded
    memory: confusion counts are summed as batches arrive; only ROC AUC needs every kept
    row, so the scores (float64, as ``performance`` uses them) and outcomes (int8) of the
    rows with an outcome are kept in one buffer, 9 bytes a row, preallocated for
    ``capacity`` rows (the file's row count when known) and doubled past it.

    ``result()`` equals ``performance(concatenated batches)`` without groups. ``add``
    raises ``performance``'s ValueError (a value that is not 0/1, its row counted across
    batches; arrays of different lengths) at the first batch that holds one.
    """

    def __init__(self, *, with_score: bool, capacity: int = 0) -> None:
        self.with_score = with_score
        self.rows = 0
        self.kept = 0
        self.counts = [0, 0, 0, 0]  # tp, fp, fn, tn
        size = max(int(capacity), 0) if with_score else 0
        self._score = np.empty(size, dtype=np.float64)
        self._y = np.empty(size, dtype=np.int8)

    def add(self, y_true: Any, y_pred: Any, score: Any = None) -> None:
        if self.with_score and score is None:
            raise ValueError("scores are missing from a batch")
        y, yhat, s, keep = _kept(y_true, y_pred, score if self.with_score else None, self.rows)
        self.rows += int(y.size)
        if not keep.any():
            return
        yk = y[keep]
        for i, c in enumerate(_confusion(yk, yhat[keep])):
            self.counts[i] += c
        if self.with_score:
            self._append(s[keep], yk)
        self.kept += int(yk.size)

    def _append(self, scores: np.ndarray, ys: np.ndarray) -> None:
        end = self.kept + scores.size
        if end > self._score.size:
            size = max(end, 2 * self._score.size)
            self._score = np.resize(self._score, size)
            self._y = np.resize(self._y, size)
        self._score[self.kept : end] = scores
        self._y[self.kept : end] = ys

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "rows_with_outcome": self.kept,
            "overall": None,
            "groups": {},
        }
        if not self.kept:
            out["message"] = "No rows with an outcome in this window."
            return out
        auc = None
        if self.with_score:
            auc = self._auc()
        out["overall"] = _from_counts(*self.counts, has_score=self.with_score, auc=auc)
        return out

    def _auc(self) -> float | None:
        """``roc_auc_from_histogram`` of the kept rows (the same float operations on the
        same per-score counts, so the same value), with the scores sorted in place and
        the counts taken from cumulative sums: about 17 bytes a row on top of the
        buffer, where ``np.unique(..., return_inverse=True)`` and two float weight
        arrays take about 40. The buffer is left sorted (``result`` stays the same)."""
        n = self.kept
        s, y = self._score[:n], self._y[:n]
        order = np.argsort(s, kind="stable")
        y[:] = y[order]
        del order
        s.sort()
        ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last row of each score
        pos_cum = np.cumsum(y, dtype=np.int64)[ends]
        pos = np.diff(pos_cum, prepend=0)
        neg = np.diff(ends + 1, prepend=0) - pos
        del ends, pos_cum
        poss, negs = pos[::-1].astype(np.float64), neg[::-1].astype(np.float64)
        p_total, n_total = float(poss.sum()), float(negs.sum())
        if not (p_total > 0 and n_total > 0):
            return None
        poss, negs = poss / p_total, negs / n_total
        above = np.cumsum(poss) - poss
        return float(np.sum(negs * (above + 0.5 * poss)))
