"""Statistics of pre-registered A/B tests and champion/challenger shadow scoring (issue #7).

Pure: numpy and scipy only, no Django. The book's Table 7-1 is the specification: fix the
protocol before (metric, population and split, alpha, power, minimum effect, hence the
sample size and duration), do not stop early, check the data and then run the registered
test. Every result is a frozen dataclass whose ``to_dict()`` is JSON-safe (non-finite
floats become ``None``).

Conventions, used everywhere below:

- Arms are ``"champion"`` (the version in production) and ``"challenger"``. Effects are
  always *challenger minus champion*. ``higher_is_better`` says which sign is good.
- A split is in **percent**: ``{"champion": 50, "challenger": 50}``, summing to 100.
- A protocol's ``alternative`` is ``"two-sided"`` or ``"one-sided"``; one-sided means the
  registered H1 is "the challenger is better". The low-level tests take statsmodels'
  ``"two-sided" | "larger" | "smaller"`` (about challenger minus champion) instead.
- Decisions: reject when ``p_value <= alpha``; the direction (better / worse) comes from
  the sign of the effect and ``higher_is_better``. A one-sided test never concludes
  "worse".
- Confidence intervals are dual to the registered alternative: two-sided at 1 - alpha,
  or a one-sided 1 - alpha bound (the other end infinite, ``None`` in JSON).

Sample sizes (see ``sample_size``): unpaired designs use statsmodels' ``NormalIndPower``
equation (Cohen's h for proportions, d = difference / sd for means), solved to machine
precision rather than statsmodels' root-finder tolerance (xtol 1e-5). Paired means use
the noncentral-t power of the one-sample t-test on the differences (statsmodels'
``TTestPower``), because the registered analysis is a paired t-test; paired binary
outcomes use Connor's (1987) normal-approximation formula for McNemar's test.

Group-sequential designs use Lan-DeMets alpha spending. With a two-sided alpha each side
spends alpha/2 through the one-sided spending function (gsDesign's and ldbounds'
convention, which gives the published 4.877, 3.357, 2.680, 2.290, 2.031 for five equal
looks); the boundaries come from the Armitage-McPherson-Rowe recursion integrated with
Simpson's rule on a fine grid.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import optimize, stats

ARMS = ("champion", "challenger")
DESIGNS = ("ab", "shadow")  # unpaired A/B split; paired shadow scoring
METRIC_KINDS = ("proportion", "mean")
ALTERNATIVES = ("two-sided", "one-sided")
TEST_ALTERNATIVES = ("two-sided", "larger", "smaller")
SPENDING_FUNCTIONS = ("obrien-fleming", "pocock")

REJECT_BETTER = "reject H0: challenger better"
REJECT_WORSE = "reject H0: challenger worse"
NO_DIFFERENCE = "no significant difference"
CONTINUE = "continue to the next look"

DEFAULT_SRM_ALPHA = 0.001
_GRID_STEP = 0.01  # Simpson grid step (z scale) of the sequential recursion
_GRID_HALF_WIDTH = 10.0  # the grid covers the mean +- this many standard deviations


class ProtocolError(ValueError):
    """A pre-registration protocol is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ExperimentDataError(ValueError):
    """Observed data cannot be analysed (negative counts, an arm with too few units...)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


# --------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class Guardrail(_Serialisable):
    """A metric the challenger must not make worse by more than ``tolerance`` (absolute,
    in the metric's unit: 0.005 = half a percentage point for a proportion)."""

    name: str
    metric_kind: str = "proportion"
    tolerance: float = 0.0
    higher_is_better: bool = True


@dataclass(frozen=True)
class Protocol(_Serialisable):
    """A pre-registered experiment. Build it with ``validate_protocol``.

    ``standard_deviation`` is the per-unit sd for an A/B mean metric and the sd of the
    paired differences for a shadow mean metric. ``discordant_proportion`` (shadow,
    proportion) is the expected share of requests on which the two models' outcomes
    differ. ``interim_looks`` are information fractions in (0, 1]; the final analysis at
    1 is implied. ``daily_traffic`` is eligible units (A/B) or scored requests (shadow)
    per day.
    """

    design: str
    metric_kind: str
    minimum_effect: float
    alpha: float = 0.05
    power: float = 0.8
    alternative: str = "two-sided"
    higher_is_better: bool = True
    baseline_proportion: float | None = None
    standard_deviation: float | None = None
    discordant_proportion: float | None = None
    split: Mapping[str, float] | None = None
    daily_traffic: float | None = None
    interim_looks: tuple[float, ...] = ()
    spending: str = "obrien-fleming"
    srm_alpha: float = DEFAULT_SRM_ALPHA
    max_missing_share: float = 0.01
    max_duplicate_share: float = 0.0
    mcnemar_exact: bool = True
    guardrails: tuple[Guardrail, ...] = ()

    @property
    def paired(self) -> bool:
        return self.design == "shadow"

    @property
    def test_alternative(self) -> str:
        """The statsmodels alternative about challenger minus champion."""
        if self.alternative == "two-sided":
            return "two-sided"
        return "larger" if self.higher_is_better else "smaller"

    @property
    def information_fractions(self) -> tuple[float, ...]:
        looks = tuple(self.interim_looks)
        return looks if looks and looks[-1] == 1.0 else (*looks, 1.0)

    @property
    def sequential(self) -> bool:
        return len(self.information_fractions) > 1


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ProtocolError(name, f"must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ProtocolError(name, "must be finite")
    return value


def _open_unit(name: str, value: Any, what: str) -> float:
    value = _number(name, value)
    if not 0.0 < value < 1.0:
        raise ProtocolError(name, f"{what} must be strictly between 0 and 1, not {value}")
    return value


def _choice(name: str, value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ProtocolError(name, f"unknown value {value!r}; expected one of {list(options)}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(name, f"must be true or false, not {value!r}")
    return value


def validate_split(split: Any, name: str = "split") -> dict[str, float]:
    """A two-arm split in percent, each share in (0, 100), summing to 100 (to 1e-9)."""
    if not isinstance(split, Mapping) or set(split) != set(ARMS):
        raise ProtocolError(name, f"must give a share in percent for exactly {list(ARMS)}")
    shares = {arm: _number(f"{name}.{arm}", split[arm]) for arm in ARMS}
    for arm, share in shares.items():
        if not 0.0 < share < 100.0:
            raise ProtocolError(f"{name}.{arm}", f"share must be in (0, 100) percent: {share}")
    if abs(sum(shares.values()) - 100.0) > 1e-9:
        raise ProtocolError(name, f"shares sum to {sum(shares.values())}%, not 100%")
    return shares


def validate_protocol(protocol: Protocol | Mapping[str, Any]) -> Protocol:
    """Check a protocol (a ``Protocol`` or its ``to_dict()`` form) and return it normalised.

    Raises ``ProtocolError(field, message)`` on the first problem: alpha, power or the
    SRM alpha outside (0, 1), power not above alpha, a non-positive minimum effect,
    unknown design / metric kind / alternative / spending function, a baseline
    proportion outside (0, 1) or one the minimum effect pushes outside it, a
    non-positive standard deviation, a split that is missing, not two arms or not 100%
    (A/B) or present (shadow), interim looks not strictly increasing in (0, 1],
    non-positive traffic, bad guardrails.
    """
    if isinstance(protocol, Protocol):
        raw = {f.name: getattr(protocol, f.name) for f in fields(Protocol)}
    elif isinstance(protocol, Mapping):
        known = {f.name for f in fields(Protocol)}
        for key in protocol:
            if key not in known:
                raise ProtocolError(str(key), "unknown protocol field")
        raw = dict(protocol)
        for key in ("design", "metric_kind", "minimum_effect"):
            if key not in raw:
                raise ProtocolError(key, "is required")
    else:
        raise ProtocolError("protocol", "must be a Protocol or a mapping of its fields")
    defaults = Protocol(design="ab", metric_kind="mean", minimum_effect=1.0)
    get = lambda key: raw.get(key, getattr(defaults, key))  # noqa: E731

    design = _choice("design", get("design"), DESIGNS)
    kind = _choice("metric_kind", get("metric_kind"), METRIC_KINDS)
    alpha = _open_unit("alpha", get("alpha"), "alpha")
    power = _open_unit("power", get("power"), "power")
    if power <= alpha:
        raise ProtocolError("power", f"must exceed alpha ({alpha}): {power}")
    effect = _number("minimum_effect", get("minimum_effect"))
    if effect <= 0:
        raise ProtocolError("minimum_effect", f"must be a positive difference, not {effect}")
    alternative = _choice("alternative", get("alternative"), ALTERNATIVES)
    higher = _flag("higher_is_better", get("higher_is_better"))

    baseline = sd = discordant = None
    if kind == "proportion":
        if get("baseline_proportion") is None:
            raise ProtocolError("baseline_proportion", "is required for a proportion metric")
        baseline = _open_unit("baseline_proportion", get("baseline_proportion"), "a proportion")
        target = baseline + effect if higher else baseline - effect
        if not 0.0 < target < 1.0:
            raise ProtocolError(
                "minimum_effect", f"moves the baseline {baseline} to {target}, outside (0, 1)"
            )
        if design == "shadow":
            if get("discordant_proportion") is None:
                raise ProtocolError(
                    "discordant_proportion", "is required for a paired proportion metric"
                )
            discordant = _number("discordant_proportion", get("discordant_proportion"))
            if not effect < discordant <= 1.0:
                raise ProtocolError(
                    "discordant_proportion",
                    f"must be in (minimum_effect, 1] = ({effect}, 1], not {discordant}",
                )
    else:
        if get("standard_deviation") is None:
            raise ProtocolError("standard_deviation", "is required for a mean metric")
        sd = _number("standard_deviation", get("standard_deviation"))
        if sd <= 0:
            raise ProtocolError("standard_deviation", f"must be positive, not {sd}")

    split = get("split")
    if design == "ab":
        if split is None:
            raise ProtocolError("split", "an A/B design needs a split")
        split = validate_split(split)
    elif split is not None:
        raise ProtocolError("split", "a shadow design scores every request with both models")

    traffic = get("daily_traffic")
    if traffic is not None:
        traffic = _number("daily_traffic", traffic)
        if traffic <= 0:
            raise ProtocolError("daily_traffic", f"must be positive, not {traffic}")

    looks = get("interim_looks")
    if isinstance(looks, str | bytes) or not isinstance(looks, Sequence):
        raise ProtocolError("interim_looks", "must be a list of information fractions")
    looks = tuple(_number(f"interim_looks[{i}]", t) for i, t in enumerate(looks))
    for i, t in enumerate(looks):
        if not 0.0 < t <= 1.0:
            raise ProtocolError("interim_looks", f"look {i + 1} ({t}) is outside (0, 1]")
        if i and t <= looks[i - 1]:
            raise ProtocolError("interim_looks", "must be strictly increasing")
    spending = _choice("spending", get("spending"), SPENDING_FUNCTIONS)

    srm_alpha = _open_unit("srm_alpha", get("srm_alpha"), "the SRM alpha")
    shares = {}
    for key in ("max_missing_share", "max_duplicate_share"):
        shares[key] = _number(key, get(key))
        if not 0.0 <= shares[key] < 1.0:
            raise ProtocolError(key, f"must be in [0, 1), not {shares[key]}")
    mcnemar_exact = _flag("mcnemar_exact", get("mcnemar_exact"))

    guardrails = []
    for i, g in enumerate(get("guardrails") or ()):
        where = f"guardrails[{i}]"
        if isinstance(g, Mapping):
            unknown = set(g) - {f.name for f in fields(Guardrail)}
            if unknown:
                raise ProtocolError(f"{where}.{sorted(unknown)[0]}", "unknown guardrail field")
            g = Guardrail(**g)
        if not isinstance(g, Guardrail):
            raise ProtocolError(where, "must be a guardrail")
        if not isinstance(g.name, str) or not g.name.strip():
            raise ProtocolError(f"{where}.name", "is required")
        if any(other.name == g.name for other in guardrails):
            raise ProtocolError(f"{where}.name", f"duplicate guardrail {g.name!r}")
        _choice(f"{where}.metric_kind", g.metric_kind, METRIC_KINDS)
        tolerance = _number(f"{where}.tolerance", g.tolerance)
        if tolerance < 0:
            raise ProtocolError(f"{where}.tolerance", f"must be >= 0, not {tolerance}")
        _flag(f"{where}.higher_is_better", g.higher_is_better)
        guardrails.append(Guardrail(g.name, g.metric_kind, tolerance, g.higher_is_better))

    return Protocol(
        design=design,
        metric_kind=kind,
        minimum_effect=effect,
        alpha=alpha,
        power=power,
        alternative=alternative,
        higher_is_better=higher,
        baseline_proportion=baseline,
        standard_deviation=sd,
        discordant_proportion=discordant,
        split=split,
        daily_traffic=traffic,
        interim_looks=looks,
        spending=spending,
        srm_alpha=srm_alpha,
        mcnemar_exact=mcnemar_exact,
        guardrails=tuple(guardrails),
        **shares,
    )


# ------------------------------------------------------------------------ sample size


def cohens_h(p_challenger: float, p_champion: float) -> float:
    """statsmodels' ``proportion_effectsize(p_challenger, p_champion)``."""
    return 2.0 * math.asin(math.sqrt(p_challenger)) - 2.0 * math.asin(math.sqrt(p_champion))


def _check_test_alternative(alternative: str) -> None:
    if alternative not in TEST_ALTERNATIVES:
        raise ValueError(f"alternative must be one of {TEST_ALTERNATIVES}, not {alternative!r}")


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


# ------------------------------------------------------------------ sufficient statistics


@dataclass(frozen=True)
class BinomialCounts(_Serialisable):
    """Successes out of n units of one arm; counts from batches add up."""

    successes: int
    n: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.n:
            raise ExperimentDataError(f"need 0 <= successes <= n: {self.successes}/{self.n}")

    def merge(self, other: BinomialCounts) -> BinomialCounts:
        return BinomialCounts(self.successes + other.successes, self.n + other.n)

    @property
    def proportion(self) -> float:
        return self.successes / self.n if self.n else float("nan")


@dataclass(frozen=True)
class MeanSummary(_Serialisable):
    """n, mean and m2 (sum of squared deviations from the mean) of one sample. Batches
    merge exactly up to rounding (Chan et al.'s parallel update), so a worker can
    aggregate outcomes per upload and the test runs on the merged summary."""

    n: int
    mean: float
    m2: float

    def __post_init__(self) -> None:
        if self.n < 0 or self.m2 < 0 or not math.isfinite(self.mean) and self.n:
            raise ExperimentDataError(f"invalid summary n={self.n} m2={self.m2}")

    @classmethod
    def from_values(cls, values: Any) -> MeanSummary:
        x = np.asarray(values, dtype=float).ravel()
        if x.size == 0:
            return cls(0, 0.0, 0.0)
        if not np.all(np.isfinite(x)):
            raise ExperimentDataError("values must be finite")
        mean = float(np.mean(x))
        return cls(int(x.size), mean, float(np.sum((x - mean) ** 2)))

    @classmethod
    def from_moments(cls, n: int, mean: float, sd: float) -> MeanSummary:
        """From a reported n, mean and sample standard deviation (ddof = 1)."""
        return cls(int(n), float(mean), float(sd) ** 2 * max(int(n) - 1, 0))

    def merge(self, other: MeanSummary) -> MeanSummary:
        n = self.n + other.n
        if n == 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        return MeanSummary(n, mean, self.m2 + other.m2 + delta * delta * self.n * other.n / n)

    @property
    def variance(self) -> float:
        """Sample variance (ddof = 1)."""
        return self.m2 / (self.n - 1) if self.n > 1 else float("nan")

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class PairedBinaryCounts(_Serialisable):
    """Shadow scoring of a binary outcome: how many requests each model got right."""

    both: int
    champion_only: int
    challenger_only: int
    neither: int

    def __post_init__(self) -> None:
        if min(self.both, self.champion_only, self.challenger_only, self.neither) < 0:
            raise ExperimentDataError("paired counts must be non-negative")

    def merge(self, other: PairedBinaryCounts) -> PairedBinaryCounts:
        return PairedBinaryCounts(
            self.both + other.both,
            self.champion_only + other.champion_only,
            self.challenger_only + other.challenger_only,
            self.neither + other.neither,
        )

    @property
    def n(self) -> int:
        return self.both + self.champion_only + self.challenger_only + self.neither

    @classmethod
    def from_outcomes(cls, champion: Any, challenger: Any) -> PairedBinaryCounts:
        a, b = np.asarray(champion).astype(bool), np.asarray(challenger).astype(bool)
        if a.shape != b.shape:
            raise ExperimentDataError("paired outcomes must have the same length")
        return cls(
            int(np.sum(a & b)), int(np.sum(a & ~b)), int(np.sum(~a & b)), int(np.sum(~a & ~b))
        )


# ------------------------------------------------------------------------------ tests


@dataclass(frozen=True)
class TestResult(_Serialisable):
    """The registered test's outcome. ``estimate`` is challenger minus champion;
    ``ci_low``/``ci_high`` the interval dual to the alternative at ``confidence``."""

    __test__ = False  # not a pytest class

    test: str
    statistic: float
    p_value: float
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    alpha: float
    alternative: str
    decision: str
    df: float | None = None
    n: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def rejected(self) -> bool:
        return self.decision != NO_DIFFERENCE


def decide(p_value: float, estimate: float, alpha: float, alternative: str, higher_is_better):
    """The pre-registered rule: reject when p <= alpha, in the direction of the effect."""
    if not p_value <= alpha:
        return NO_DIFFERENCE
    positive = estimate > 0 if alternative == "two-sided" else alternative == "larger"
    return REJECT_BETTER if positive == bool(higher_is_better) else REJECT_WORSE


def _p_from_z(z: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2.0 * stats.norm.sf(abs(z)))
    return float(stats.norm.sf(z) if alternative == "larger" else stats.norm.cdf(z))


def _p_from_t(t: float, df: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2.0 * stats.t.sf(abs(t), df))
    return float(stats.t.sf(t, df) if alternative == "larger" else stats.t.cdf(t, df))


def _interval(estimate: float, se: float, alpha: float, alternative: str, df=None):
    dist = stats.norm if df is None else stats.t(df)
    if alternative == "two-sided":
        half = dist.isf(alpha / 2.0) * se
        return estimate - half, estimate + half
    half = dist.isf(alpha) * se
    return (estimate - half, math.inf) if alternative == "larger" else (-math.inf, estimate + half)


def _degenerate(diff: float, alternative: str) -> tuple[float, float]:
    """Statistic and p-value when the standard error is zero."""
    if diff == 0:
        return 0.0, 1.0
    stat = math.copysign(math.inf, diff)
    return stat, _p_from_z(stat, alternative)


def two_proportion_z(c_champion, n_champion, c_challenger, n_challenger):
    """Vectorised pooled-variance z of challenger minus champion (0 where the pooled
    variance is 0): statsmodels ``proportions_ztest([c2, c1], [n2, n1])[0]``."""
    c1, n1 = np.asarray(c_champion, float), np.asarray(n_champion, float)
    c2, n2 = np.asarray(c_challenger, float), np.asarray(n_challenger, float)
    pooled = (c1 + c2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (c2 / n2 - c1 / n1) / np.sqrt(var)
    return np.where(var > 0, z, 0.0)


def two_proportion_ztest(
    champion: BinomialCounts,
    challenger: BinomialCounts,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    higher_is_better: bool = True,
) -> TestResult:
    """Pooled two-proportion z-test (statsmodels ``proportions_ztest``) with the Wald
    interval of the difference (``confint_proportions_2indep(method="wald")``)."""
    _check_test_alternative(alternative)
    if champion.n == 0 or challenger.n == 0:
        raise ExperimentDataError("both arms need at least one unit")
    p1, p2 = champion.proportion, challenger.proportion
    diff = p2 - p1
    notes: tuple[str, ...] = ()
    z = float(two_proportion_z(champion.successes, champion.n, challenger.successes, challenger.n))
    pooled = (champion.successes + challenger.successes) / (champion.n + challenger.n)
    if pooled in (0.0, 1.0):
        z, p, notes = 0.0, 1.0, ("every unit has the same outcome: no evidence of a difference",)
    else:
        p = _p_from_z(z, alternative)
    se = math.sqrt(p1 * (1 - p1) / champion.n + p2 * (1 - p2) / challenger.n)
    lo, hi = _interval(diff, se, alpha, alternative)
    return TestResult(
        test="two-proportion z-test (pooled)",
        statistic=z,
        p_value=p,
        estimate=diff,
        ci_low=lo,
        ci_high=hi,
        confidence=1.0 - alpha,
        alpha=alpha,
        alternative=alternative,
        decision=decide(p, diff, alpha, alternative, higher_is_better),
        n={"champion": champion.n, "challenger": challenger.n},
        notes=notes,
    )


def welch_ttest(
    champion: MeanSummary,
    challenger: MeanSummary,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    higher_is_better: bool = True,
) -> TestResult:
    """Welch's t-test from summaries (``ttest_ind(usevar="unequal")``) and the
    Welch-Satterthwaite interval (``CompareMeans.tconfint_diff(usevar="unequal")``)."""
    _check_test_alternative(alternative)
    if champion.n < 2 or challenger.n < 2:
        raise ExperimentDataError("Welch's test needs at least two units per arm")
    v1, v2 = champion.variance / champion.n, challenger.variance / challenger.n
    diff = challenger.mean - champion.mean
    se = math.sqrt(v1 + v2)
    notes: tuple[str, ...] = ()
    if se == 0:
        df = float(champion.n + challenger.n - 2)
        t, p = _degenerate(diff, alternative)
        notes = ("both arms have zero variance",)
    else:
        df = (v1 + v2) ** 2 / (v1**2 / (champion.n - 1) + v2**2 / (challenger.n - 1))
        t = diff / se
        p = _p_from_t(t, df, alternative)
    lo, hi = _interval(diff, se, alpha, alternative, df)
    return TestResult(
        test="Welch's t-test",
        statistic=t,
        p_value=p,
        estimate=diff,
        ci_low=lo,
        ci_high=hi,
        confidence=1.0 - alpha,
        alpha=alpha,
        alternative=alternative,
        decision=decide(p, diff, alpha, alternative, higher_is_better),
        df=df,
        n={"champion": champion.n, "challenger": challenger.n},
        notes=notes,
    )


def paired_ttest(
    differences: MeanSummary,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    higher_is_better: bool = True,
) -> TestResult:
    """Paired t-test from the summary of challenger-minus-champion differences
    (scipy ``ttest_rel(challenger, champion)``), with the t interval of the mean."""
    _check_test_alternative(alternative)
    if differences.n < 2:
        raise ExperimentDataError("the paired t-test needs at least two pairs")
    df = float(differences.n - 1)
    se = differences.sd / math.sqrt(differences.n)
    diff = differences.mean
    notes: tuple[str, ...] = ()
    if se == 0:
        t, p = _degenerate(diff, alternative)
        notes = ("every pair has the same difference",)
    else:
        t = diff / se
        p = _p_from_t(t, df, alternative)
    lo, hi = _interval(diff, se, alpha, alternative, df)
    return TestResult(
        test="paired t-test",
        statistic=t,
        p_value=p,
        estimate=diff,
        ci_low=lo,
        ci_high=hi,
        confidence=1.0 - alpha,
        alpha=alpha,
        alternative=alternative,
        decision=decide(p, diff, alpha, alternative, higher_is_better),
        df=df,
        n={"pairs": differences.n},
        notes=notes,
    )


def welch_ttest_from_arrays(champion_values, challenger_values, **kwargs) -> TestResult:
    """``welch_ttest`` on raw per-unit values."""
    summaries = (
        MeanSummary.from_values(champion_values),
        MeanSummary.from_values(challenger_values),
    )
    return welch_ttest(*summaries, **kwargs)


def paired_ttest_from_arrays(champion_values, challenger_values, **kwargs) -> TestResult:
    """``paired_ttest`` on the raw paired values (differences challenger - champion)."""
    a = np.asarray(champion_values, dtype=float)
    b = np.asarray(challenger_values, dtype=float)
    if a.shape != b.shape:
        raise ExperimentDataError("paired values must have the same length")
    return paired_ttest(MeanSummary.from_values(b - a), **kwargs)


def mcnemar_test(
    table: PairedBinaryCounts,
    *,
    exact: bool = True,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    higher_is_better: bool = True,
) -> TestResult:
    """McNemar's test on the discordant pairs b = champion only, c = challenger only.

    Two-sided: exactly statsmodels ``mcnemar(table, exact, correction=True)``: the
    binomial test (statistic min(b, c)) or chi-square (|b - c| - 1)^2 / (b + c), with
    statsmodels' convention that b = c gives 1 / (b + c). One-sided: the one-sided
    binomial test (scipy ``binomtest(c, b + c)``) or the continuity-corrected z,
    (c - b - 1) / sqrt(b + c) for "larger". The estimate is the difference of the two
    success rates, (c - b) / n, with its paired Wald interval.
    """
    _check_test_alternative(alternative)
    b, c, n = table.champion_only, table.challenger_only, table.n
    if n == 0:
        raise ExperimentDataError("no pairs")
    m = b + c
    diff = (c - b) / n
    notes: tuple[str, ...] = ()
    if m == 0:
        stat, p, df = 0.0, 1.0, None
        notes = ("no discordant pairs: the models agree on every request",)
    elif exact:
        df = None
        if alternative == "two-sided":
            stat = float(min(b, c))
            p = min(1.0, 2.0 * float(stats.binom.cdf(stat, m, 0.5)))
        else:
            stat = float(c)
            tail = stats.binom.sf(c - 1, m, 0.5) if alternative == "larger" else None
            p = float(tail if tail is not None else stats.binom.cdf(c, m, 0.5))
    elif alternative == "two-sided":
        stat, df = (abs(b - c) - 1.0) ** 2 / m, 1.0
        p = float(stats.chi2.sf(stat, 1))
    else:
        df = None
        stat = (
            (c - b - 1.0) / math.sqrt(m)
            if alternative == "larger"
            else (c - b + 1.0) / math.sqrt(m)
        )
        p = _p_from_z(stat, alternative)
    se = math.sqrt(max(m - (c - b) ** 2 / n, 0.0)) / n
    lo, hi = _interval(diff, se, alpha, alternative)
    return TestResult(
        test="McNemar exact (binomial)" if exact else "McNemar chi-square (corrected)",
        statistic=stat,
        p_value=p,
        estimate=diff,
        ci_low=lo,
        ci_high=hi,
        confidence=1.0 - alpha,
        alpha=alpha,
        alternative=alternative,
        decision=decide(p, diff, alpha, alternative, higher_is_better),
        df=df,
        n={"pairs": n, "champion_only": b, "challenger_only": c},
        notes=notes,
    )


def primary_test(protocol: Protocol, *, champion=None, challenger=None, paired=None) -> TestResult:
    """Run the protocol's registered test. A/B: ``champion``/``challenger`` are
    ``BinomialCounts`` (proportion) or ``MeanSummary`` (mean). Shadow: ``paired`` is a
    ``PairedBinaryCounts`` (proportion) or the ``MeanSummary`` of the differences."""
    kw = {
        "alpha": protocol.alpha,
        "alternative": protocol.test_alternative,
        "higher_is_better": protocol.higher_is_better,
    }
    if protocol.design == "ab":
        if champion is None or challenger is None:
            raise ExperimentDataError("an A/B test needs both arms' data")
        test = two_proportion_ztest if protocol.metric_kind == "proportion" else welch_ttest
        return test(champion, challenger, **kw)
    if paired is None:
        raise ExperimentDataError("a shadow comparison needs the paired data")
    if protocol.metric_kind == "proportion":
        return mcnemar_test(paired, exact=protocol.mcnemar_exact, **kw)
    return paired_ttest(paired, **kw)


def equivalent_z(result: TestResult) -> float:
    """The signed standard-normal z (challenger minus champion) with the same tail
    probability as the result, for comparing with sequential boundaries: t through its
    df, exact McNemar through its p-value, McNemar's chi-square as its signed root."""
    stat = result.statistic
    if result.test.startswith("McNemar"):
        b, c = result.n["champion_only"], result.n["challenger_only"]
        if c == b and result.alternative == "two-sided":
            return 0.0
        if result.test.startswith("McNemar exact"):
            if result.alternative == "two-sided":
                return float(math.copysign(stats.norm.isf(result.p_value / 2.0), c - b))
            z = stats.norm.isf(result.p_value)
            return float(z if result.alternative == "larger" else -z)
        if result.alternative == "two-sided":
            return float(math.copysign(math.sqrt(stat), c - b))
        return float(stat)
    if result.df is not None and math.isfinite(stat):
        return float(stats.norm.isf(stats.t.sf(stat, result.df)))
    return float(stat)


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


# ---------------------------------------------------------------------- data quality


@dataclass(frozen=True)
class SrmResult(_Serialisable):
    """Chi-square goodness of fit of the arms' unit counts to the planned split."""

    statistic: float
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]
    srm_alpha: float
    mismatch: bool


def sample_ratio_mismatch(
    observed: Mapping[str, int], split: Mapping[str, float], srm_alpha: float = DEFAULT_SRM_ALPHA
) -> SrmResult:
    """``scipy.stats.chisquare(observed, total * share)``; flags p < srm_alpha."""
    shares = validate_split(split)
    counts = {arm: int(observed.get(arm, 0)) for arm in ARMS}
    if set(observed) - set(ARMS) or min(counts.values()) < 0:
        raise ExperimentDataError(f"observed counts must be non-negative, for {list(ARMS)}")
    total = sum(counts.values())
    if total == 0:
        raise ExperimentDataError("no units observed")
    expected = {arm: total * shares[arm] / 100.0 for arm in ARMS}
    f_obs = np.array([counts[a] for a in ARMS], float)
    f_exp = np.array([expected[a] for a in ARMS])
    statistic = float(np.sum((f_obs - f_exp) ** 2 / f_exp))
    p = float(stats.chi2.sf(statistic, len(ARMS) - 1))
    return SrmResult(statistic, p, counts, expected, srm_alpha, p < srm_alpha)


@dataclass(frozen=True)
class UnitCheck(_Serialisable):
    """Missing and duplicated units per arm (or "pairs"), and outcomes for unknown units."""

    assigned: dict[str, int]
    missing: dict[str, int]
    duplicated: dict[str, int]
    unknown: int
    missing_share: float
    duplicate_share: float
    problems: tuple[str, ...]


def unit_check(
    *,
    assigned: Mapping[str, int],
    with_outcome: Mapping[str, int],
    duplicated: Mapping[str, int] | None = None,
    unknown: int = 0,
    max_missing_share: float = 0.01,
    max_duplicate_share: float = 0.0,
) -> UnitCheck:
    """From the caller's counts: units assigned per arm, distinct units with an outcome,
    units that received more than one outcome, and outcomes naming no assigned unit.
    A problem is a missing or duplicate share above its tolerance, or any unknown unit."""
    duplicated = duplicated or {}
    keys = list(assigned)
    vals = [assigned[k] for k in keys] + [with_outcome.get(k, 0) for k in keys]
    vals += [duplicated.get(k, 0) for k in keys] + [unknown]
    if min(vals) < 0 or set(with_outcome) - set(keys) or set(duplicated) - set(keys):
        raise ExperimentDataError("counts must be non-negative and name assigned arms only")
    missing = {k: int(assigned[k]) - int(with_outcome.get(k, 0)) for k in keys}
    if min(missing.values(), default=0) < 0:
        raise ExperimentDataError("more units with an outcome than units assigned")
    total = sum(int(assigned[k]) for k in keys)
    miss_share = sum(missing.values()) / total if total else 0.0
    dup_share = sum(int(duplicated.get(k, 0)) for k in keys) / total if total else 0.0
    problems = []
    if total == 0:
        problems.append("no units were assigned")
    if miss_share > max_missing_share:
        problems.append(f"{miss_share:.2%} of units have no outcome (> {max_missing_share:.2%})")
    if dup_share > max_duplicate_share:
        problems.append(
            f"{dup_share:.2%} of units have duplicated outcomes (> {max_duplicate_share:.2%})"
        )
    if unknown:
        problems.append(f"{unknown} outcomes name units that were never assigned")
    return UnitCheck(
        {k: int(assigned[k]) for k in keys},
        missing,
        {k: int(duplicated.get(k, 0)) for k in keys},
        int(unknown),
        miss_share,
        dup_share,
        tuple(problems),
    )


@dataclass(frozen=True)
class GuardrailResult(_Serialisable):
    """``deterioration`` is how much worse the challenger is (positive = worse);
    ``worst_case`` the one-sided (1 - alpha) upper bound of the deterioration.
    Breached when the observed deterioration exceeds the tolerance; ``non_inferior``
    when even the worst case stays within it."""

    name: str
    estimate: float
    deterioration: float
    worst_case: float
    tolerance: float
    breached: bool
    non_inferior: bool


def guardrail_check(
    guardrail: Guardrail, champion: Any, challenger: Any, *, alpha: float = 0.05
) -> GuardrailResult:
    """Compare one guardrail metric (``BinomialCounts`` or ``MeanSummary`` per arm)."""
    if guardrail.metric_kind == "proportion":
        if not isinstance(champion, BinomialCounts) or not isinstance(challenger, BinomialCounts):
            raise ExperimentDataError(f"guardrail {guardrail.name!r} needs BinomialCounts")
        p1, p2 = champion.proportion, challenger.proportion
        est = p2 - p1
        se = math.sqrt(p1 * (1 - p1) / champion.n + p2 * (1 - p2) / challenger.n)
        crit = stats.norm.isf(alpha)
    else:
        if not isinstance(champion, MeanSummary) or not isinstance(challenger, MeanSummary):
            raise ExperimentDataError(f"guardrail {guardrail.name!r} needs MeanSummary")
        v1, v2 = champion.variance / champion.n, challenger.variance / challenger.n
        est, se = challenger.mean - champion.mean, math.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (champion.n - 1) + v2**2 / (challenger.n - 1)) if se else 1
        crit = stats.t.isf(alpha, df)
    worse = -est if guardrail.higher_is_better else est
    worst = worse + crit * se
    tol = guardrail.tolerance
    return GuardrailResult(guardrail.name, est, worse, worst, tol, worse > tol, worst <= tol)


@dataclass(frozen=True)
class DataQualityReport(_Serialisable):
    srm: SrmResult | None
    units: UnitCheck | None
    guardrails: tuple[GuardrailResult, ...]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "passed": self.passed}


def data_quality(
    protocol: Protocol,
    *,
    arm_counts: Mapping[str, int] | None = None,
    units: Mapping[str, Any] | None = None,
    guardrail_data: Mapping[str, tuple[Any, Any]] | None = None,
) -> DataQualityReport:
    """All checks a protocol registers, run before its test. ``arm_counts``: units per
    arm (A/B only: SRM); ``units``: keyword arguments of ``unit_check`` without the
    tolerances; ``guardrail_data``: name -> (champion, challenger) data. A registered
    guardrail without data is a problem, as is data for an unregistered one."""
    problems: list[str] = []
    srm = None
    if protocol.design == "ab" and arm_counts is not None:
        srm = sample_ratio_mismatch(arm_counts, protocol.split, protocol.srm_alpha)
        if srm.mismatch:
            problems.append(f"sample-ratio mismatch (p = {srm.p_value:.3g} < {srm.srm_alpha})")
    checked = None
    if units is not None:
        checked = unit_check(
            **units,
            max_missing_share=protocol.max_missing_share,
            max_duplicate_share=protocol.max_duplicate_share,
        )
        problems.extend(checked.problems)
    data = dict(guardrail_data or {})
    results = []
    for g in protocol.guardrails:
        if g.name not in data:
            problems.append(f"guardrail {g.name!r} has no data")
            continue
        r = guardrail_check(g, *data.pop(g.name), alpha=protocol.alpha)
        results.append(r)
        if r.breached:
            problems.append(f"guardrail {g.name!r} breached: {r.deterioration:.4g} > {r.tolerance}")
    problems.extend(f"guardrail {name!r} was not registered" for name in sorted(data))
    return DataQualityReport(srm, checked, tuple(results), tuple(problems))


# ------------------------------------------------------------------ group sequential


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


# ------------------------------------------------------------------------ assignment


def assignment_point(experiment_salt: str, entity_key: str) -> float:
    """SHA-256 of ``salt + "\\x1f" + key`` (the unit separator keeps ("ab", "c") and
    ("a", "bc") apart), its first 8 bytes read as an integer / 2**64, in [0, 1)."""
    digest = hashlib.sha256(f"{experiment_salt}\x1f{entity_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_arm(experiment_salt: str, entity_key: str, split: Mapping[str, float]) -> str:
    """The arm of an entity: champion when its point is below the champion's share."""
    shares = validate_split(split)
    point = assignment_point(str(experiment_salt), str(entity_key))
    return "champion" if point < shares["champion"] / 100.0 else "challenger"
