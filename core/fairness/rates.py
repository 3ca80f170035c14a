"""Per-group rates from confusion counts: the rate definitions (``RATES``), each rate
with its Wilson score interval (Kish's effective n when weighted), and ROC AUC from a
score histogram."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054

TN, FP, FN, TP = 0, 1, 2, 3  # confusion cell index = 2 * y + yhat
_ALL = (TN, FP, FN, TP)

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
    negs = np.bincount(inv.reshape(-1), weights=neg, minlength=len(su))
    poss = np.bincount(inv.reshape(-1), weights=pos, minlength=len(su))
    return roc_auc_ascending(negs, poss)


def roc_auc_ascending(negs: np.ndarray, poss: np.ndarray) -> float | None:
    """ROC AUC of the negatives and positives (contiguous arrays) at each distinct score,
    in ascending order of score; ties counted half (as sklearn)."""
    negs, poss = negs[::-1], poss[::-1]
    p_total, n_total = float(poss.sum()), float(negs.sum())
    if not (p_total > 0 and n_total > 0):
        return None
    poss, negs = poss / p_total, negs / n_total  # (as sklearn: tpr, fpr) never underflow
    above = np.cumsum(poss) - poss
    return float(np.sum(negs * (above + 0.5 * poss)))
