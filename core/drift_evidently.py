"""Evidently's default data-drift tests, computed from our profiles (pure: numpy, scipy).

Teams that already judge drift with Evidently's default report want the same verdicts
from the dashboard. Evidently chooses a test per column (``_get_default_stattest`` in
its legacy registry) from the reference size and the number of distinct values of
reference + current, after dropping missing and infinite values:

=========================  ==============================  ====================
reference rows             numeric column                  categorical column
=========================  ==============================  ====================
<= 1000                    > 5 values: KS, p < 0.05         > 2 values: chi-square
                           3-5: chi-square; <= 2: z-test     goodness of fit;
                                                            <= 2: z-test (p < 0.05)
> 1000                     > 5 values: Wasserstein          Jensen-Shannon
                           distance / reference std >= 0.1  distance >= 0.1
                           <= 5: Jensen-Shannon >= 0.1
=========================  ==============================  ====================

Everything here is computed from exact profiles (sorted distinct values with counts,
category counts), so a reference profile built once serves every window. The product's
own tests (``core.drift.drift_compare``: PSI over reference deciles, KS / chi-square
with a minimum effect) remain the policy's verdicts; this module answers "what would
Evidently's default report say", side by side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from core.drift import (
    MISSING_LABEL,
    CategoricalProfile,
    NumericProfile,
    Profile,
    chi2_goodness_of_fit,
    ks_from_counts,
)

SMALL_REFERENCE = 1000
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1


def _keys_and_shares(ref_keys, ref_counts, cur_keys, cur_counts):
    """Per-value shares over the union of values (Evidently's buckets for few values)."""
    keys = sorted(set(ref_keys) | set(cur_keys))
    rmap = dict(zip(ref_keys, ref_counts, strict=True))
    cmap = dict(zip(cur_keys, cur_counts, strict=True))
    r = np.array([rmap.get(k, 0) for k in keys], dtype=np.float64)
    c = np.array([cmap.get(k, 0) for k in keys], dtype=np.float64)
    return keys, r, c


def _z_test(r: np.ndarray, c: np.ndarray) -> float:
    """Evidently's two-proportion z-test on the share of the first value."""
    if len(r) == 1:
        return 1.0
    n1, n2 = r.sum(), c.sum()
    # Evidently codes the first (sorted) value as 0 and the rest as 1.
    p1, p2 = r[1:].sum() / n1, c[1:].sum() / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


def _wasserstein_norm(ref: NumericProfile, cur: NumericProfile) -> float:
    n = ref.counts.sum()
    mean = float(np.dot(ref.values, ref.counts) / n)
    std = float(np.sqrt(np.dot((ref.values - mean) ** 2, ref.counts) / n))
    w = stats.wasserstein_distance(ref.values, cur.values, ref.counts, cur.counts)
    return float(w) / max(std, 0.001)


def _result(test: str, score: float, threshold: float, drift: bool) -> dict[str, Any]:
    return {"test": test, "score": score, "threshold": threshold, "drift": bool(drift)}


def _numeric(ref: NumericProfile, cur: NumericProfile) -> dict[str, Any]:
    values = np.union1d(ref.values, cur.values)
    n_values = len(values)
    if ref.n <= SMALL_REFERENCE:
        if n_values > 5:
            _, p, _ = ks_from_counts(ref.values, ref.counts, cur.values, cur.counts)
            return _result("ks", p, P_THRESHOLD, p < P_THRESHOLD)
        _, r, c = _keys_and_shares(
            ref.values.tolist(), ref.counts.tolist(), cur.values.tolist(), cur.counts.tolist()
        )
        if n_values > 2:
            _, p = chi2_goodness_of_fit(r, c)
            return _result("chisquare", p, P_THRESHOLD, p < P_THRESHOLD)
        p = _z_test(r, c)
        return _result("z", p, P_THRESHOLD, p < P_THRESHOLD)
    if n_values > 5:
        score = _wasserstein_norm(ref, cur)
        return _result("wasserstein", score, DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD)
    _, r, c = _keys_and_shares(
        ref.values.tolist(), ref.counts.tolist(), cur.values.tolist(), cur.counts.tolist()
    )
    score = float(distance.jensenshannon(r / r.sum(), c / c.sum()))
    return _result("jensenshannon", score, DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD)


def _without_missing(p: CategoricalProfile) -> tuple[list[str], list[int]]:
    pairs = [(k, int(n)) for k, n in zip(p.categories, p.counts, strict=True) if k != MISSING_LABEL]
    return [k for k, _ in pairs], [n for _, n in pairs]


def _categorical(ref: CategoricalProfile, cur: CategoricalProfile) -> dict[str, Any]:
    rk, rn = _without_missing(ref)
    ck, cn = _without_missing(cur)
    keys, r, c = _keys_and_shares(rk, rn, ck, cn)
    if sum(rn) <= SMALL_REFERENCE:
        if len(keys) > 2:
            _, p = chi2_goodness_of_fit(r, c)
            return _result("chisquare", p, P_THRESHOLD, p < P_THRESHOLD)
        p = _z_test(r, c)
        return _result("z", p, P_THRESHOLD, p < P_THRESHOLD)
    score = float(distance.jensenshannon(r / r.sum(), c / c.sum()))
    return _result("jensenshannon", score, DISTANCE_THRESHOLD, score >= DISTANCE_THRESHOLD)


def evidently_default_verdicts(reference: Profile, window: Profile) -> dict[str, dict[str, Any]]:
    """{column: {test, score, threshold, drift}} as Evidently's default report would give
    them, for every column the two profiles share with values on both sides; a column
    that cannot be compared gets {"test": None, "drift": None, "message": ...}."""
    out: dict[str, dict[str, Any]] = {}
    for name, ref in reference.features.items():
        cur = window.features.get(name)
        if cur is None or cur.kind != ref.kind:
            out[name] = {"test": None, "drift": None, "message": "not in the window"}
            continue
        empty = (ref.kind == "numeric" and (ref.n == 0 or cur.n == 0)) or (
            ref.kind == "categorical"
            and (not sum(_without_missing(ref)[1]) or not sum(_without_missing(cur)[1]))
        )
        if empty:
            out[name] = {"test": None, "drift": None, "message": "no values to compare"}
            continue
        out[name] = _numeric(ref, cur) if ref.kind == "numeric" else _categorical(ref, cur)
    return out
