"""Performance drift: accuracy, precision, recall and ROC AUC of the rows whose outcome
is present, overall and per sensitive group (``performance``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.drift.profiles import _as_float
from core.fairness import MISSING_LABEL, encode, label_for, roc_auc_from_histogram


def _binary_or_missing(values: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(0/1 int8 values, present mask); NaN/None mark missing. Raises ValueError."""
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        return arr.astype(np.int8), np.ones(arr.shape, bool)
    f = _as_float(arr)
    present = ~np.isnan(f)
    bad = present & (f != 0) & (f != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = arr[i].item() if isinstance(arr[i], np.generic) else arr[i]
        raise ValueError(f"{name} must be 0 or 1; row {i + 1} is {value!r}")
    return np.where(present, f, 0).astype(np.int8), present


def _metrics(y: np.ndarray, yhat: np.ndarray, score: np.ndarray | None) -> dict:
    n = int(y.size)
    tp = int(np.count_nonzero((y == 1) & (yhat == 1)))
    fp = int(np.count_nonzero((y == 0) & (yhat == 1)))
    fn = int(np.count_nonzero((y == 1) & (yhat == 0)))
    tn = n - tp - fp - fn
    notes = []
    precision = tp / (tp + fp) if tp + fp else None
    if precision is None:
        notes.append("precision undefined: no predicted positives")
    recall = tp / (tp + fn) if tp + fn else None
    if recall is None:
        notes.append("recall undefined: no actual positives")
    auc = None
    if score is not None:
        auc = roc_auc_from_histogram(score, (y == 0).astype(np.float64), y.astype(np.float64))
        if auc is None:
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
    y, present = _binary_or_missing(y_true, "outcome")
    yhat, pred_present = _binary_or_missing(y_pred, "prediction")
    if yhat.shape != y.shape:
        raise ValueError("outcomes and predictions have different lengths")
    keep = present & pred_present
    s = None
    if score is not None:
        s = _as_float(score)
        if s.shape != y.shape:
            raise ValueError("scores and outcomes have different lengths")
        keep &= np.isfinite(s)
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
