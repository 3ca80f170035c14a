"""The registered significance tests and their decisions: the pooled two-proportion
z-test, Welch's and the paired t-test, McNemar's test (exact or corrected), each with
the interval dual to its alternative; ``primary_test`` runs the protocol's test and
``equivalent_z`` puts a result on the z scale of the sequential boundaries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from core.experiment_stats.base import (
    NO_DIFFERENCE,
    NOT_NON_INFERIOR,
    REJECT_BETTER,
    REJECT_WORSE,
    ExperimentDataError,
    _check_test_alternative,
    _Serialisable,
)
from core.experiment_stats.protocol import Protocol
from core.experiment_stats.summaries import BinomialCounts, MeanSummary, PairedBinaryCounts


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
        return self.decision not in (NO_DIFFERENCE, NOT_NON_INFERIOR)


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
    ``BinomialCounts`` (proportion) or ``MeanSummary`` (mean); with a pre-registered
    non-inferiority margin, the one-sided non-inferiority test. Shadow: ``paired`` is a
    ``PairedBinaryCounts`` (proportion) or the ``MeanSummary`` of the differences."""
    kw = {
        "alpha": protocol.alpha,
        "alternative": protocol.test_alternative,
        "higher_is_better": protocol.higher_is_better,
    }
    if protocol.design == "ab":
        if champion is None or challenger is None:
            raise ExperimentDataError("an A/B test needs both arms' data")
        if protocol.non_inferiority_margin is not None:
            from core.experiment_stats.noninferiority import non_inferiority_test

            return non_inferiority_test(protocol, champion, challenger)
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
