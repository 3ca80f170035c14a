"""The non-inferiority design of an A/B test (issue 14): the protocol pre-registers a
margin (in the metric's unit) and the challenger supports promotion when the test
rejects H0 "the challenger is worse than the champion by the margin or more".

One-sided, unpooled (Wald) for proportions, Welch for means, with the one-sided
(1 - alpha) bound of the difference dual to it:

- proportions: statsmodels ``test_proportions_2indep(c2, n2, c1, n1, value=-margin,
  method="wald", compare="diff", alternative="larger")`` (higher is better; ``value=
  margin`` and ``"smaller"`` when lower is better);
- means: statsmodels ``ttest_ind(x2, x1, usevar="unequal", value=-margin,
  alternative="larger")`` (likewise mirrored).
"""

from __future__ import annotations

import math

from scipy import stats

from core.experiment_stats.base import NON_INFERIOR, NOT_NON_INFERIOR, ExperimentDataError
from core.experiment_stats.protocol import Protocol
from core.experiment_stats.significance import TestResult, _interval
from core.experiment_stats.summaries import BinomialCounts, MeanSummary


def non_inferiority_test(protocol: Protocol, champion, challenger) -> TestResult:
    """The registered non-inferiority test of challenger minus champion."""
    margin = float(protocol.non_inferiority_margin or 0.0)
    higher = protocol.higher_is_better
    alternative = "larger" if higher else "smaller"
    shift = -margin if higher else margin  # the null value of challenger minus champion
    alpha = protocol.alpha
    if isinstance(champion, BinomialCounts) and isinstance(challenger, BinomialCounts):
        if champion.n == 0 or challenger.n == 0:
            raise ExperimentDataError("both arms need at least one unit")
        p1, p2 = champion.proportion, challenger.proportion
        diff = p2 - p1
        se = math.sqrt(p1 * (1 - p1) / champion.n + p2 * (1 - p2) / challenger.n)
        df = None
        name = f"non-inferiority z-test (Wald, margin {margin:g})"
    elif isinstance(champion, MeanSummary) and isinstance(challenger, MeanSummary):
        if champion.n < 2 or challenger.n < 2:
            raise ExperimentDataError("Welch's test needs at least two units per arm")
        v1, v2 = champion.variance / champion.n, challenger.variance / challenger.n
        diff = challenger.mean - champion.mean
        se = math.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (champion.n - 1) + v2**2 / (challenger.n - 1)) if se else 1
        name = f"non-inferiority Welch t-test (margin {margin:g})"
    else:
        raise ExperimentDataError("the arms' data do not match the metric")
    if se == 0:
        statistic = math.copysign(math.inf, diff - shift) if diff != shift else 0.0
    else:
        statistic = (diff - shift) / se
    dist = stats.norm if df is None else stats.t(df)
    p = float(dist.sf(statistic) if higher else dist.cdf(statistic))
    lo, hi = _interval(diff, se, alpha, alternative, df)
    return TestResult(
        test=name,
        statistic=float(statistic),
        p_value=p,
        estimate=diff,
        ci_low=lo,
        ci_high=hi,
        confidence=1.0 - alpha,
        alpha=alpha,
        alternative=alternative,
        decision=NON_INFERIOR if p <= alpha else NOT_NON_INFERIOR,
        df=df,
        n={"champion": champion.n, "challenger": challenger.n},
        notes=(f"H0: the challenger is worse by {margin:g} or more",),
    )
