"""Data-quality checks run before the registered test: sample-ratio mismatch against
the planned split, missing / duplicated / unknown units, guardrail metrics, and
``data_quality``, which runs every check a protocol registers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from core.experiment_stats.base import ARMS, DEFAULT_SRM_ALPHA, ExperimentDataError, _Serialisable
from core.experiment_stats.protocol import Guardrail, Protocol, validate_split
from core.experiment_stats.summaries import BinomialCounts, MeanSummary


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
    mismatched: int = 0


def unit_check(
    *,
    assigned: Mapping[str, int],
    with_outcome: Mapping[str, int],
    duplicated: Mapping[str, int] | None = None,
    unknown: int = 0,
    mismatched: int = 0,
    max_missing_share: float = 0.01,
    max_duplicate_share: float = 0.0,
) -> UnitCheck:
    """From the caller's counts: units assigned per arm, distinct units with an outcome,
    units that received more than one outcome, outcomes naming no assigned unit, and
    units whose arm is not their assignment (seen in both arms, or, when the product
    assigns, in another arm than its hash gives: issue 14). A problem is a missing or
    duplicate share above its tolerance, or any unknown or mismatched unit."""
    duplicated = duplicated or {}
    keys = list(assigned)
    vals = [assigned[k] for k in keys] + [with_outcome.get(k, 0) for k in keys]
    vals += [duplicated.get(k, 0) for k in keys] + [unknown, mismatched]
    if min(vals) < 0 or set(with_outcome) - set(keys) or set(duplicated) - set(keys):
        raise ExperimentDataError("counts must be non-negative and name assigned arms only")
    missing = {k: int(assigned[k]) - int(with_outcome.get(k, 0)) for k in keys}
    if min(missing.values(), default=0) < 0:
        raise ExperimentDataError("more units with an outcome than units assigned")
    total = sum(int(assigned[k]) for k in keys)
    miss_share = sum(missing.values()) / total if total else 0.0
    dup_share = sum(int(duplicated.get(k, 0)) for k in keys) / total if total else 0.0
    problems = _unit_problems(
        total, miss_share, dup_share, unknown, mismatched, max_missing_share, max_duplicate_share
    )
    return UnitCheck(
        {k: int(assigned[k]) for k in keys},
        missing,
        {k: int(duplicated.get(k, 0)) for k in keys},
        int(unknown),
        miss_share,
        dup_share,
        tuple(problems),
        int(mismatched),
    )


def _unit_problems(
    total: int,
    miss_share: float,
    dup_share: float,
    unknown: int,
    mismatched: int,
    max_missing_share: float,
    max_duplicate_share: float,
) -> list[str]:
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
    if mismatched:
        problems.append(
            f"assignment mismatch: {mismatched} units are not in the arm they were assigned to"
        )
    return problems


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
