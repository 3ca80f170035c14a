"""The drift statistics computed from counts: the two-sample KS test equal to
``scipy.stats.ks_2samp``, the chi-square test of homogeneity with Cramer's V, Evidently's
chi-square goodness of fit, PSI with Evidently's empty-bucket fill, and the
Jensen-Shannon distance."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.spatial import distance
from scipy.stats import _stats_py

from core.drift.base import KS_MAX_AUTO_N, PSI_EPSILON


def ks_from_counts(
    ref_values: np.ndarray, ref_counts: np.ndarray, cur_values: np.ndarray, cur_counts: np.ndarray
) -> tuple[float, float, str]:
    """Two-sided two-sample KS (statistic, p-value, "exact" | "asymp") of two samples given
    as sorted distinct values with counts; equal to `scipy.stats.ks_2samp(ref, cur)`.

    D is the largest gap between the two right-continuous ECDFs over the pooled values,
    with ECDF values taken from `np.linspace(0, 1, n + 1)` as ks_2samp takes them; the
    p-value follows ks_2samp's "auto" logic (exact when max(n1, n2) <= 10,000, falling
    back to the asymptotic kstwo distribution when the exact computation fails).
    """
    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    if min(n1, n2) == 0:
        raise ValueError("KS needs at least one value on each side")
    # Merge the two sorted lists (a stable argsort of two sorted runs is a linear merge),
    # accumulate each side's counts, and read both ECDFs at the last entry of every value.
    pooled = np.concatenate([ref_values, cur_values])
    order = np.argsort(pooled, kind="stable")
    pooled = pooled[order]
    zeros1, zeros2 = np.zeros(len(cur_values), np.int64), np.zeros(len(ref_values), np.int64)
    k1 = np.cumsum(np.concatenate([ref_counts, zeros1])[order])
    k2 = np.cumsum(np.concatenate([zeros2, cur_counts])[order])
    last = np.flatnonzero(np.append(pooled[1:] != pooled[:-1], True))
    diffs = np.linspace(0.0, 1.0, n1 + 1)[k1[last]] - np.linspace(0.0, 1.0, n2 + 1)[k2[last]]
    d = max(float(diffs.max()), float(-diffs.min()), 0.0)
    d = min(d, 1.0)
    return d, *_ks_2samp_pvalue(d, n1, n2)


def _ks_2samp_pvalue(d: float, n1: int, n2: int) -> tuple[float, str]:
    """scipy's `_ks_2samp_prob` for alternative="two-sided", method="auto"."""
    mode = "exact" if max(n1, n2) <= KS_MAX_AUTO_N else "asymp"
    prob = math.nan
    if mode == "exact":
        g = math.gcd(n1, n2)
        success, _, prob = _stats_py._attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        if not success:
            mode = "asymp"
    if mode == "asymp":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        prob = stats.kstwo.sf(d, np.round(en))
    return float(np.clip(prob, 0, 1)), mode


def chi2_from_counts(
    ref_counts: np.ndarray, cur_counts: np.ndarray
) -> tuple[float, float, int, float]:
    """(statistic, p-value, dof, Cramer's V) of the 2 x k table [reference, current]:
    `scipy.stats.chi2_contingency` (Yates' correction when dof = 1) and Cramer's V from
    the uncorrected statistic (`scipy.stats.contingency.association`). Categories absent
    from both rows must be left out by the caller."""
    table = np.vstack([ref_counts, cur_counts]).astype(np.int64)
    res = stats.chi2_contingency(table)
    dof = int(res.dof)
    if dof == 0:
        return float(res.statistic), float(res.pvalue), 0, 0.0
    v = stats.contingency.association(table, method="cramer", correction=False)
    return float(res.statistic), float(res.pvalue), dof, float(v)


def chi2_goodness_of_fit(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Evidently's "chisquare": `scipy.stats.chisquare(cur, ref * n_cur / n_ref)`. A
    category absent from the reference gives an infinite statistic and p = 0."""
    f_exp = ref_counts * (cur_counts.sum() / ref_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(cur_counts, f_exp)
    return float(res.statistic), float(res.pvalue)


def _fill_zeros(p: np.ndarray) -> np.ndarray:
    """Evidently's empty-bucket fill (`get_binned_data(..., feel_zeroes=True)`)."""
    p = np.array(p, dtype=np.float64)
    nonzero = p[p != 0]
    if nonzero.size == 0 or nonzero.size == p.size:
        return p
    smallest = nonzero.min()
    p[p == 0] = smallest / 10**6 if smallest <= PSI_EPSILON else PSI_EPSILON
    return p


def psi(ref_proportions: np.ndarray, cur_proportions: np.ndarray) -> float:
    """Population stability index, sum((r - c) * ln(r / c)), empty buckets filled as
    Evidently fills them (see `_fill_zeros`)."""
    r = _fill_zeros(ref_proportions)
    c = _fill_zeros(cur_proportions)
    return float(np.sum((r - c) * np.log(r / c)))


def js_distance(ref_proportions: np.ndarray, cur_proportions: np.ndarray) -> float:
    """Jensen-Shannon distance, natural logarithm (scipy's default, as Evidently)."""
    return float(distance.jensenshannon(ref_proportions, cur_proportions))
