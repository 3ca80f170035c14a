"""Group-sequential designs: Lan-DeMets alpha spending (O'Brien-Fleming and Pocock
types), boundaries from the Armitage-McPherson-Rowe recursion integrated with Simpson's
rule, exit probabilities, the sample-size inflation factor, and ``sequential_test``,
which applies the boundaries to the looks taken so far."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from core.experiment_stats.base import (
    CONTINUE,
    NO_DIFFERENCE,
    REJECT_BETTER,
    REJECT_WORSE,
    _check_test_alternative,
    _Serialisable,
)
from core.experiment_stats.protocol import Protocol

_GRID_STEP = 0.01  # Simpson grid step (z scale) of the sequential recursion
_GRID_HALF_WIDTH = 10.0  # the grid covers the mean +- this many standard deviations


def sequential_design(protocol: Protocol) -> SequentialDesign | None:
    """The protocol's boundaries, or None for a fixed-horizon protocol."""
    if not protocol.sequential:
        return None
    return sequential_boundaries(
        protocol.information_fractions,
        alpha=protocol.alpha,
        spending=protocol.spending,
        alternative=protocol.test_alternative,
    )


def spending_function(t: Any, alpha: float, kind: str = "obrien-fleming") -> np.ndarray:
    """Lan-DeMets cumulative one-sided alpha spent by information fraction t.

    O'Brien-Fleming type: 2 - 2 Phi(z_{alpha/2} / sqrt(t)); Pocock type:
    alpha ln(1 + (e - 1) t). Both equal alpha at t = 1."""
    t = np.asarray(t, dtype=float)
    if kind == "obrien-fleming":
        return 2.0 * stats.norm.sf(stats.norm.isf(alpha / 2.0) / np.sqrt(t))
    if kind == "pocock":
        return alpha * np.log1p((math.e - 1.0) * t)
    raise ValueError(f"unknown spending function {kind!r}")


@dataclass(frozen=True)
class SequentialDesign(_Serialisable):
    """Boundaries on the z scale per look (the same on both sides when two-sided);
    ``cumulative_alpha`` is the total type I error spent by each look (both sides)."""

    information_fractions: tuple[float, ...]
    boundaries: tuple[float, ...]
    cumulative_alpha: tuple[float, ...]
    nominal_p: tuple[float, ...]
    alpha: float
    spending: str
    alternative: str


def _simpson(lo: float, hi: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    m = max(2, math.ceil((hi - lo) / (2.0 * step)))
    z = np.linspace(lo, hi, 2 * m + 1)
    w = np.ones(2 * m + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return z, w * (hi - lo) / (6.0 * m)


def _recursion(t, boundaries, *, two_sided: bool, drift: float = 0.0, targets=None):
    """Exit probabilities per look (upper, lower) of Z_k, with E[Z_k] = drift sqrt(t_k),
    Cov(Z_i, Z_j) = sqrt(t_i / t_j). Where ``targets[k]`` is given, the look's boundary
    is solved so that its exit probability (both sides if two-sided) equals it."""
    t = np.asarray(t, dtype=float)
    c = list(boundaries)
    upper, lower = np.zeros(len(t)), np.zeros(len(t))
    z = w = g = None
    for k, tk in enumerate(t):
        mean = drift * math.sqrt(tk)
        if k == 0:
            up = lambda b: stats.norm.sf(b - mean)  # noqa: E731,B023
            low = lambda b: stats.norm.cdf(-b - mean)  # noqa: E731,B023
        else:
            d = tk - t[k - 1]
            sd = math.sqrt(d)
            shift = z * math.sqrt(t[k - 1]) + drift * d
            wg = w * g
            up = lambda b: float(wg @ stats.norm.sf((b * math.sqrt(tk) - shift) / sd))  # noqa: E731,B023
            low = lambda b: float(wg @ stats.norm.cdf((-b * math.sqrt(tk) - shift) / sd))  # noqa: E731,B023
        if targets is not None and targets[k] is not None:
            if k == 0:
                c[k] = float(stats.norm.isf(targets[k] / 2.0 if two_sided else targets[k]))
            else:
                gap = lambda b: up(b) + (low(b) if two_sided else 0.0) - targets[k]  # noqa: E731,B023
                hi = 1.0
                while gap(hi) > 0:
                    hi *= 2.0
                c[k] = float(optimize.brentq(gap, 0.0, hi, xtol=1e-12, rtol=1e-14))
        upper[k] = up(c[k])
        lower[k] = low(c[k]) if two_sided else 0.0
        if k + 1 == len(t):
            break
        # the next look's kernel has sd sqrt(dt / t_k) in this look's z: resolve it
        step = min(_GRID_STEP, math.sqrt((t[k + 1] - tk) / tk) / 12.0)
        lo = max(-c[k], mean - _GRID_HALF_WIDTH) if two_sided else mean - _GRID_HALF_WIDTH
        hi_ = min(c[k], mean + _GRID_HALF_WIDTH)
        z_new, w_new = _simpson(lo, hi_, step)
        if k == 0:
            g = stats.norm.pdf(z_new - mean)
        else:
            kern = stats.norm.pdf((z_new[:, None] * math.sqrt(tk) - shift[None, :]) / sd)
            g = kern @ (w * g) * (math.sqrt(tk) / sd)
        z, w = z_new, w_new
    return upper, lower, c


def _validated_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    t = tuple(float(x) for x in fractions)
    if not t or t[-1] != 1.0 or any(not 0 < x <= 1 for x in t):
        raise ValueError("information fractions must lie in (0, 1] and end at 1")
    if any(b <= a for a, b in zip(t, t[1:], strict=False)):
        raise ValueError("information fractions must be strictly increasing")
    return t


def sequential_boundaries(
    information_fractions: Sequence[float],
    *,
    alpha: float = 0.05,
    spending: str = "obrien-fleming",
    alternative: str = "two-sided",
) -> SequentialDesign:
    """Lan-DeMets boundaries for looks at the given information fractions (the last
    is 1). Two-sided: symmetric, each side spending alpha/2; one-sided ("larger" or
    "smaller"): one efficacy boundary spending alpha, on z or -z, no futility stop.
    Recomputing with the observed fractions at analysis time keeps alpha exact."""
    _check_test_alternative(alternative)
    t = _validated_fractions(information_fractions)
    two = alternative == "two-sided"
    side = alpha / 2.0 if two else alpha
    cumulative = spending_function(t, side, spending)
    cumulative[-1] = side
    increments = np.diff(cumulative, prepend=0.0) * (2.0 if two else 1.0)
    _, _, c = _recursion(t, [None] * len(t), two_sided=two, targets=list(increments))
    nominal = [float(stats.norm.sf(b) * (2.0 if two else 1.0)) for b in c]
    return SequentialDesign(
        t,
        tuple(float(b) for b in c),
        tuple(float(x) for x in np.cumsum(increments)),
        tuple(nominal),
        alpha,
        spending,
        alternative,
    )


def sequential_exit_probabilities(design: SequentialDesign, drift: float = 0.0):
    """(upper, lower) crossing probabilities per look for E[Z_k] = drift sqrt(t_k) on
    the direction of the alternative (lower is zero for one-sided designs)."""
    up, low, _ = _recursion(
        design.information_fractions,
        design.boundaries,
        two_sided=design.alternative == "two-sided",
        drift=drift,
    )
    return up, low


def sequential_inflation_factor(design: SequentialDesign, power: float) -> float:
    """Maximum sample size of the sequential design over the fixed-sample size for the
    same power, counting rejections in both directions when two-sided (as
    ``NormalIndPower`` does). 1 for a single look."""
    if len(design.information_fractions) == 1:
        return 1.0
    two = design.alternative == "two-sided"
    a = design.alpha / 2.0 if two else design.alpha
    crit = stats.norm.isf(a)

    def fixed(th: float) -> float:
        return stats.norm.sf(crit - th) + (stats.norm.cdf(-crit - th) if two else 0.0)

    theta_fixed = optimize.brentq(lambda th: fixed(th) - power, 0.0, 20.0, xtol=1e-12)

    def gap(theta: float) -> float:
        up, low = sequential_exit_probabilities(design, theta)
        return float(up.sum() + low.sum()) - power

    theta = optimize.brentq(gap, theta_fixed, 2.0 * theta_fixed, xtol=1e-10)
    return float((theta / theta_fixed) ** 2)


@dataclass(frozen=True)
class SequentialResult(_Serialisable):
    """The looks taken so far, each z against its boundary; ``stopped_at`` is the
    1-based look that crossed (None if none did)."""

    z_values: tuple[float, ...]
    boundaries: tuple[float, ...]
    crossed: tuple[bool, ...]
    stopped_at: int | None
    decision: str


def sequential_test(
    design: SequentialDesign, z_values: Sequence[float], *, higher_is_better: bool = True
) -> SequentialResult:
    """Apply the boundaries to the z statistics (challenger minus champion; see
    ``equivalent_z``) of the looks taken so far, in order. Stops at the first crossing;
    after the last look without one: no significant difference."""
    z = tuple(float(v) for v in z_values)
    if not z or len(z) > len(design.boundaries):
        raise ValueError(f"need 1 to {len(design.boundaries)} looks, got {len(z)}")
    crossed = []
    for zk, c in zip(z, design.boundaries, strict=False):
        if design.alternative == "two-sided":
            crossed.append(abs(zk) >= c)
        else:
            crossed.append((zk if design.alternative == "larger" else -zk) >= c)
    hit = next((i for i, x in enumerate(crossed) if x), None)
    if hit is None:
        decision = NO_DIFFERENCE if len(z) == len(design.boundaries) else CONTINUE
        return SequentialResult(z, design.boundaries[: len(z)], tuple(crossed), None, decision)
    positive = z[hit] > 0
    decision = REJECT_BETTER if positive == higher_is_better else REJECT_WORSE
    n = hit + 1
    return SequentialResult(z[:n], design.boundaries[:n], tuple(crossed[:n]), n, decision)
