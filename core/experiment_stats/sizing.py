"""Power and sample size (see the package docstring): the two-sample z power of
statsmodels' ``NormalIndPower``, the paired t power of ``TTestPower``, Connor's McNemar
approximation and the exact McNemar power, solved to machine precision; ``sample_size``
turns a validated protocol into units per arm (or pairs), the sequential maximum and the
duration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from core.experiment_stats.base import ARMS, _check_test_alternative, _Serialisable
from core.experiment_stats.protocol import Protocol
from core.experiment_stats.sequential import sequential_design, sequential_inflation_factor


def cohens_h(p_challenger: float, p_champion: float) -> float:
    """statsmodels' ``proportion_effectsize(p_challenger, p_champion)``."""
    return 2.0 * math.asin(math.sqrt(p_challenger)) - 2.0 * math.asin(math.sqrt(p_champion))


def normal_power(
    effect_size: float,
    nobs1: float,
    alpha: float,
    ratio: float = 1.0,
    alternative: str = "two-sided",
) -> float:
    """Power of the two-sample z-test: statsmodels ``NormalIndPower().power(...)``."""
    _check_test_alternative(alternative)
    nobs = 1.0 / (1.0 / nobs1 + 1.0 / (nobs1 * ratio))
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    shift = effect_size * math.sqrt(nobs)
    power = 0.0
    if alternative in ("two-sided", "larger"):
        power += stats.norm.sf(stats.norm.isf(a) - shift)
    if alternative in ("two-sided", "smaller"):
        power += stats.norm.cdf(stats.norm.ppf(a) - shift)
    return float(power)


def ttest_power(effect_size: float, nobs: float, alpha: float, alternative: str = "two-sided"):
    """Power of the one-sample (paired) t-test: statsmodels ``TTestPower().power(...)``."""
    _check_test_alternative(alternative)
    df = nobs - 1.0
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    nc = effect_size * math.sqrt(nobs)
    power = 0.0
    if alternative in ("two-sided", "larger"):
        power += stats.nct.sf(stats.t.isf(a, df), df, nc)
    if alternative in ("two-sided", "smaller"):
        power += stats.nct.cdf(stats.t.ppf(a, df), df, nc)
    return float(power)


def _directional(effect_size: float, alternative: str) -> None:
    if effect_size == 0 or (alternative == "larger" and effect_size < 0):
        raise ValueError("the effect size must be non-zero and point to the alternative")
    if alternative == "smaller" and effect_size > 0:
        raise ValueError("the effect size must be non-zero and point to the alternative")


def solve_normal_nobs1(
    effect_size: float, alpha: float, power: float, ratio: float = 1.0, alternative="two-sided"
) -> float:
    """The exact (real) nobs1 solving ``NormalIndPower().power(...) == power``, with
    nobs2 = ratio * nobs1. One-sided: closed form; two-sided: Brent's method from the
    closed-form bracket, to machine precision."""
    _check_test_alternative(alternative)
    _directional(effect_size, alternative)
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    n_eff = ((stats.norm.isf(a) + stats.norm.isf(1.0 - power)) / abs(effect_size)) ** 2
    upper = n_eff * (1.0 + 1.0 / ratio)  # exact one-sided; an upper bound when two-sided
    if alternative != "two-sided":
        return float(upper)
    gap = lambda n: normal_power(effect_size, n, alpha, ratio, alternative) - power  # noqa: E731
    lower = upper / 2.0
    while gap(lower) > 0:
        lower /= 2.0
    return float(optimize.brentq(gap, lower, upper, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def solve_ttest_nobs(effect_size: float, alpha: float, power: float, alternative="two-sided"):
    """The exact (real) n >= 2 solving ``TTestPower().power(...) == power``.

    For very large effects (n below about 4) scipy's noncentral t can return NaN at a
    fractional df; then the smallest integer n reaching the power is returned."""
    _check_test_alternative(alternative)
    _directional(effect_size, alternative)
    gap = lambda n: ttest_power(effect_size, n, alpha, alternative) - power  # noqa: E731
    if gap(2.0) >= 0:  # the t-test needs two pairs; statsmodels' bracket starts here too
        return 2.0
    lower = 2.0
    upper = 2.0 * ((stats.norm.isf(alpha / 2.0) + stats.norm.isf(1.0 - power)) / effect_size) ** 2
    upper = max(3.0, math.ceil(upper))
    while not gap(upper) >= 0:
        lower, upper = upper, upper * 2.0
    try:
        return float(optimize.brentq(gap, lower, upper, xtol=1e-13, rtol=4 * np.finfo(float).eps))
    except ValueError:  # NaN inside the bracket
        return float(next(n for n in range(math.ceil(lower), int(upper) + 1) if gap(n) >= 0))


def mcnemar_sample_size(
    discordant: float, difference: float, alpha: float, power: float, alternative="two-sided"
) -> float:
    """Pairs needed by McNemar's test (Connor 1987, normal approximation):
    ``n = (z_a sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2`` with psi the share of
    discordant pairs and delta = p(challenger only) - p(champion only)."""
    _check_test_alternative(alternative)
    if not abs(difference) < discordant <= 1:
        raise ValueError("need 0 < |difference| < discordant share <= 1")
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    za, zb = stats.norm.isf(a), stats.norm.isf(1.0 - power)
    return float(
        (za * math.sqrt(discordant) + zb * math.sqrt(discordant - difference**2)) ** 2
        / difference**2
    )


def mcnemar_power(
    n: int,
    discordant: float,
    difference: float,
    alpha: float,
    alternative: str = "two-sided",
    exact: bool = True,
) -> float:
    """The exact power of ``mcnemar_test`` (exact, or chi-square with continuity
    correction) with n pairs: the number of discordant pairs m is Binomial(n, psi) and,
    given m, the challenger-only count is Binomial(m, (psi + delta) / (2 psi)); the
    rejection region of each m is summed exactly (m beyond 1e-13 tails is dropped)."""
    _check_test_alternative(alternative)
    q = (discordant + difference) / (2.0 * discordant)
    lo = max(1, int(stats.binom.ppf(1e-13, n, discordant)))
    m = np.arange(lo, int(stats.binom.isf(1e-13, n, discordant)) + 1, dtype=float)
    weight = stats.binom.pmf(m, n, discordant)
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    if exact:  # reject when the tail of the discordant split is <= a
        k = stats.binom.ppf(a, m, 0.5)
        k = np.where(stats.binom.cdf(k, m, 0.5) <= a, k, k - 1)  # largest k with cdf <= a
        high, low = m - k, k  # c >= m - k, or c <= k
    else:
        root = np.sqrt(m * stats.chi2.isf(alpha, 1)) if alternative == "two-sided" else None
        root = np.sqrt(m) * stats.norm.isf(alpha) if root is None else root
        high, low = np.ceil((m + 1.0 + root) / 2.0), np.floor((m - 1.0 - root) / 2.0)
    reject = np.zeros_like(m)
    if alternative in ("two-sided", "larger"):
        reject += stats.binom.sf(high - 1.0, m, q)
    if alternative in ("two-sided", "smaller"):
        reject += stats.binom.cdf(low, m, q)
    return float(np.sum(weight * reject))


def mcnemar_required_pairs(
    discordant: float,
    difference: float,
    alpha: float,
    power: float,
    alternative: str = "two-sided",
    exact: bool = True,
) -> int:
    """The smallest n whose exact ``mcnemar_power`` reaches ``power``, searched by
    bisection from Connor's approximation (the power is increasing in n once the
    binomial spread of the discordant count smooths the exact test's saw-tooth)."""
    has = lambda n: mcnemar_power(n, discordant, difference, alpha, alternative, exact) >= power  # noqa: E731
    start = max(
        2, math.ceil(mcnemar_sample_size(discordant, difference, alpha, power, alternative))
    )
    lo, hi = start, start
    while has(lo) and lo > 2:
        lo = max(2, lo // 2)
    while not has(hi):
        lo, hi = hi, math.ceil(hi * 1.25)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if has(mid) else (mid, hi)
    return hi if not has(lo) else lo


@dataclass(frozen=True)
class SampleSize(_Serialisable):
    """Units per arm (A/B) or pairs (shadow) and the duration.

    ``exact`` is the real solution of the power equation and ``required`` its ceiling
    (at least 2). For McNemar, ``exact`` is Connor's approximation and ``required`` the
    smallest n at which the registered test (exact or corrected) reaches the power
    exactly. ``maximum`` is what the experiment runs to: ``required``, or for a
    sequential design the fixed-sample size times the boundaries' inflation factor,
    ceiled. The duration is the days the slowest arm needs to reach its maximum at
    ``daily_traffic`` times its share (shadow: pairs / daily traffic)."""

    method: str
    effect_size: float
    alternative: str
    exact: dict[str, float]
    required: dict[str, int]
    inflation_factor: float = 1.0
    maximum: dict[str, int] = field(default_factory=dict)
    duration_days: float | None = None
    duration_days_ceil: int | None = None

    @property
    def total(self) -> int:
        return sum(self.maximum.values())


def sample_size(protocol: Protocol) -> SampleSize:
    """Sample size and duration of a validated protocol (see the module docstring)."""
    p, alt = protocol, protocol.test_alternative
    sign = 1.0 if p.higher_is_better else -1.0
    delta = sign * p.minimum_effect
    # a two-sided test is sized for the improvement direction too (Cohen's h is not odd)
    if p.design == "ab":
        ratio = p.split["challenger"] / p.split["champion"]
        if p.metric_kind == "proportion":
            es = cohens_h(p.baseline_proportion + delta, p.baseline_proportion)
            method = "NormalIndPower, Cohen's h"
        else:
            es = delta / p.standard_deviation
            method = "NormalIndPower, d = difference / sd"
        n1 = solve_normal_nobs1(es, p.alpha, p.power, ratio, alt)
        exact = {"champion": n1, "challenger": n1 * ratio}
    else:
        if p.metric_kind == "proportion":
            es = delta
            n = mcnemar_sample_size(p.discordant_proportion, delta, p.alpha, p.power, alt)
            method = "McNemar: Connor (1987), then the exact power of the registered test"
        else:
            es = delta / p.standard_deviation
            n = solve_ttest_nobs(es, p.alpha, p.power, alt)
            method = "TTestPower (paired t on the differences), d = difference / sd_diff"
        exact = {"pairs": n}
    required = {k: max(2, math.ceil(v - 1e-9)) for k, v in exact.items()}
    if p.design == "shadow" and p.metric_kind == "proportion":
        required["pairs"] = mcnemar_required_pairs(
            p.discordant_proportion, delta, p.alpha, p.power, alt, p.mcnemar_exact
        )
    design = sequential_design(p)
    inflation = 1.0 if design is None else sequential_inflation_factor(design, p.power)
    # McNemar's base is the exact-power integer; the others scale the real solution
    base = required if p.design == "shadow" and p.metric_kind == "proportion" else exact
    maximum = {k: max(2, math.ceil(base[k] * inflation - 1e-9)) for k in required}
    days = None
    if p.daily_traffic is not None:
        if p.design == "ab":
            days = max(maximum[a] / (p.daily_traffic * p.split[a] / 100.0) for a in ARMS)
        else:
            days = maximum["pairs"] / p.daily_traffic
    return SampleSize(
        method=method,
        effect_size=es,
        alternative=alt,
        exact=exact,
        required=required,
        inflation_factor=inflation,
        maximum=maximum,
        duration_days=days,
        duration_days_ceil=None if days is None else math.ceil(days - 1e-9),
    )
