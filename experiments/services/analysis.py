"""The analysis of an experiment (``experiment_analyse``, run by a worker): an interim
look of a group-sequential design when its information fraction is reached, or the final
analysis of an ended experiment (data-quality checks first, then the registered test).
The result is stored with its SHA-256 and the owner is e-mailed."""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.utils import timezone
from scipy import stats as sps

from core import experiment_stats as st
from core import promotion_rules as rules
from experiments import selectors as sel
from experiments.models import Experiment
from experiments.services.base import _audit, _locked
from experiments.services.emails import notify_owner
from experiments.services.findings import experiment_outcome_finding
from notifications.models import Notification

VERDICTS = {
    st.REJECT_BETTER: "Challenger better",
    st.REJECT_WORSE: "Challenger worse",
    st.NO_DIFFERENCE: "No significant difference",
    st.NON_INFERIOR: "Challenger non-inferior",
    st.NOT_NON_INFERIOR: "Challenger not shown non-inferior",
}


def _summary(kind: str, values: list[float]):
    if kind == "proportion":
        return st.BinomialCounts(int(sum(values)), len(values))
    return st.MeanSummary.from_values(values)


def _arm_band(kind: str, values: list[float], alpha: float) -> dict[str, Any]:
    """The metric of one arm with its two-sided 1 - alpha interval (for the chart)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "estimate": None, "ci_low": None, "ci_high": None}
    if kind == "proportion":
        p = sum(values) / n
        half = sps.norm.isf(alpha / 2) * math.sqrt(p * (1 - p) / n)
        return {"n": n, "estimate": p, "ci_low": max(0.0, p - half), "ci_high": min(1.0, p + half)}
    s = st.MeanSummary.from_values(values)
    half = sps.t.isf(alpha / 2, n - 1) * s.sd / math.sqrt(n) if n > 1 else float("nan")
    return st._jsonable(
        {"n": n, "estimate": s.mean, "ci_low": s.mean - half, "ci_high": s.mean + half}
    )


def _test(experiment: Experiment, protocol: st.Protocol, data: sel.AnalysisData):
    kind = experiment.metric_kind
    if experiment.is_paired:
        champ, chall = data.values["champion"], data.values["challenger"]
        if kind == "proportion":
            paired = st.PairedBinaryCounts.from_outcomes(champ, chall)
        else:
            paired = st.MeanSummary.from_values([b - a for a, b in zip(champ, chall, strict=True)])
        return st.primary_test(protocol, paired=paired)
    return st.primary_test(
        protocol,
        champion=_summary(kind, data.values["champion"]),
        challenger=_summary(kind, data.values["challenger"]),
    )


def _guardrail_data(protocol: st.Protocol, data: sel.AnalysisData) -> dict[str, tuple]:
    out = {}
    for g in protocol.guardrails:
        values = data.guardrails.get(g.name, {})
        if all(len(values.get(a, [])) >= 2 for a in st.ARMS):
            out[g.name] = tuple(_summary(g.metric_kind, values[a]) for a in st.ARMS)
    return out


def _information_fraction(experiment: Experiment, data: sel.AnalysisData) -> float:
    planned = experiment.sample_size.get("maximum") or {}
    observed = data.with_outcome  # per arm, or "pairs"
    return min((observed.get(k, 0) / v for k, v in planned.items() if v), default=0.0)


def _boundaries(protocol: st.Protocol, taken: list[float], final: bool) -> st.SequentialDesign:
    """Boundaries for the observed fractions so far, then the planned remaining looks
    (spending by the fractions actually observed keeps alpha exact)."""
    planned = [t for t in protocol.information_fractions if t > (taken[-1] if taken else 0)]
    fractions = [*taken, 1.0] if final else [*taken, *[t for t in planned if t < 1.0], 1.0]
    return st.sequential_boundaries(
        fractions,
        alpha=protocol.alpha,
        spending=protocol.spending,
        alternative=protocol.test_alternative,
    )


def experiment_analyse(*, experiment_id: int) -> dict[str, Any]:
    """Run what is due: an interim look (sequential designs, when its information
    fraction is reached) or the final analysis (data quality first, then the registered
    test) of an ended experiment. Idempotent: an analysed experiment, or a look already
    taken, writes nothing. Returns what happened."""
    with transaction.atomic():
        experiment = _locked(Experiment(pk=experiment_id))
        if experiment.status == Experiment.Status.ANALYSED:
            return {"experiment": experiment.pk, "done": "already analysed"}
        if experiment.status == Experiment.Status.RUNNING:
            return _interim(experiment)
        if experiment.status != Experiment.Status.ENDED:
            return {"experiment": experiment.pk, "done": f"nothing to do ({experiment.status})"}
        result = _final(experiment)
        _store_result(experiment, result, status_before="ended")
        return {"experiment": experiment.pk, "done": "analysed", "verdict": result["verdict"]}


def _interim(experiment: Experiment) -> dict[str, Any]:
    look = sel.next_look(experiment)
    if look is None:
        return {"experiment": experiment.pk, "done": "no look due"}
    protocol = sel.protocol(experiment)
    data = sel.analysis_data(experiment)
    fraction = _information_fraction(experiment, data)
    if fraction < look[1]:
        return {"experiment": experiment.pk, "done": "no look due"}
    fraction = min(fraction, 0.999999)
    taken = [float(x["fraction"]) for x in experiment.looks or []]
    if taken and fraction <= taken[-1]:
        return {"experiment": experiment.pk, "done": "no look due"}
    try:
        test = _test(experiment, protocol, data)
    except st.ExperimentDataError as exc:
        return {"experiment": experiment.pk, "done": f"look not possible: {exc}"}
    z = st.equivalent_z(test)
    design = _boundaries(protocol, [*taken, fraction], final=False)
    zs = [*[float(x["z"]) for x in experiment.looks or []], z]
    seq = st.sequential_test(design, zs, higher_is_better=protocol.higher_is_better)
    k = len(zs)
    entry = {
        "look": k,
        "planned_fraction": look[1],
        "fraction": fraction,
        "n": test.n,
        "z": z,
        "boundary": design.boundaries[k - 1],
        "nominal_p": design.nominal_p[k - 1],
        "crossed": bool(seq.crossed[-1]),
        "decision": seq.decision,
        "at": timezone.now().isoformat(),
    }
    experiment.looks = [*(experiment.looks or []), entry]
    experiment.save(update_fields=["looks"])
    _audit("experiment.interim_look", experiment, by=None, reason=seq.decision, look=(None, k))
    if seq.stopped_at is None:
        return {"experiment": experiment.pk, "done": f"look {k}: continue"}
    experiment.status = Experiment.Status.ENDED
    experiment.ended_at = timezone.now()
    experiment.end_reason = f"the boundary was crossed at interim look {k}"
    experiment.save(update_fields=["status", "ended_at", "end_reason"])
    _audit(
        "experiment.ended",
        experiment,
        by=None,
        reason=experiment.end_reason,
        status=("running", "ended"),
    )
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ENDED)
    result = _final(experiment, stopped_early=True)
    _store_result(experiment, result, status_before="ended")
    return {"experiment": experiment.pk, "done": f"look {k}: stopped", "verdict": result["verdict"]}


def _final(experiment: Experiment, *, stopped_early: bool = False) -> dict[str, Any]:
    """The final analysis: the data-quality checks, then the registered test (with the
    group-sequential boundaries of the looks taken), as a JSON-safe result."""
    protocol = sel.protocol(experiment)
    data = sel.analysis_data(experiment)
    units = {
        "assigned": data.assigned,
        "with_outcome": data.with_outcome,
        "duplicated": data.duplicated,
        "unknown": 0,
        "mismatched": data.mismatched,
    }
    dq_dict, dq_passed, problems = _quality(experiment, protocol, data, units)
    test, seq, decision, error = _registered_test(experiment, protocol, data, stopped_early)
    # Data quality first, then a decision only if valid (issue 14): an invalid result
    # keeps its test for a governance lead's override, but says only why it is invalid.
    if error:
        verdict = f"Not analysable: {error}"
    elif not dq_passed:
        verdict = f"Not valid: {'; '.join(problems)}"
    else:
        verdict = VERDICTS.get(decision, decision)
    bands_values = data.values  # per arm; shadow: both models' outcomes on the same units
    kind = experiment.metric_kind
    return st._jsonable(
        {
            "analysed_at": timezone.now().isoformat(),
            "protocol_sha256": experiment.protocol_sha256,
            "data_quality": dq_dict,
            "data_quality_passed": dq_passed,
            "valid": dq_passed and not error,
            "problems": problems,
            "srm_verdict": _srm_verdict(experiment, dq_dict),
            "test": test.to_dict() if test else None,
            "sequential": seq.to_dict() if seq else None,
            "stopped_early": stopped_early,
            "decision": decision,
            "decision_rule": _decision_rule(protocol),
            "verdict": verdict,
            "error": error,
            "arms": {a: _arm_band(kind, bands_values[a], protocol.alpha) for a in st.ARMS},
            "units": units,
        }
    )


def _quality(
    experiment: Experiment, protocol: st.Protocol, data: sel.AnalysisData, units: dict
) -> tuple[dict[str, Any] | None, bool, list[str]]:
    """(the data-quality report as a dict or None, whether it passed, its problems)."""
    try:
        dq = st.data_quality(
            protocol,
            arm_counts=None if experiment.is_paired else data.assigned,
            units=units,
            guardrail_data=_guardrail_data(protocol, data),
        )
    except st.ExperimentDataError as exc:
        return None, False, [str(exc)]
    return dq.to_dict(), dq.passed, list(dq.problems)


def _srm_verdict(experiment: Experiment, dq_dict: dict[str, Any] | None) -> str:
    """The sample-ratio mismatch check in words."""
    srm = (dq_dict or {}).get("srm")
    if experiment.is_paired:
        return "not applicable: paired design (both models score every unit)"
    if srm is None:
        return "not computed: no units"
    if srm["mismatch"]:
        return f"sample-ratio mismatch (chi-square p = {srm['p_value']:.3g} < {srm['srm_alpha']})"
    return f"no sample-ratio mismatch (chi-square p = {srm['p_value']:.3g})"


def _registered_test(
    experiment: Experiment, protocol: st.Protocol, data: sel.AnalysisData, stopped_early: bool
) -> tuple[st.TestResult | None, st.SequentialResult | None, str, str]:
    """(test, sequential result, decision, error): the registered test, then for a
    sequential design the boundaries over the looks taken and, unless the experiment
    stopped at a look, this final one."""
    try:
        test = _test(experiment, protocol, data)
    except st.ExperimentDataError as exc:
        return None, None, "", str(exc)
    if not protocol.sequential:
        return test, None, test.decision, ""
    taken = [float(x["fraction"]) for x in experiment.looks or []]
    zs = [float(x["z"]) for x in experiment.looks or []]
    if stopped_early:
        design = _boundaries(protocol, taken, final=False)
        seq = st.sequential_test(design, zs, higher_is_better=protocol.higher_is_better)
    else:
        design = _boundaries(protocol, taken, final=True)
        seq = st.sequential_test(
            design, [*zs, st.equivalent_z(test)], higher_is_better=protocol.higher_is_better
        )
    return test, seq, seq.decision, ""


def _decision_rule(protocol: st.Protocol) -> str:
    """The registered decision rule in words (stored with the result)."""
    if protocol.non_inferiority_margin is not None:
        return (
            f"Non-inferiority, margin {protocol.non_inferiority_margin:g}: reject H0 (the "
            f"challenger is worse by the margin or more) when p <= alpha = {protocol.alpha:g}, "
            f"one-sided ({'higher' if protocol.higher_is_better else 'lower'} is better). "
            "Only a non-inferior challenger supports promotion; data-quality problems void "
            "the decision."
        )
    side = "two-sided" if protocol.alternative == "two-sided" else "one-sided (challenger better)"
    rule = (
        f"Reject H0 when p <= alpha = {protocol.alpha:g} ({side}); the direction from the sign "
        f"of challenger minus champion ({'higher' if protocol.higher_is_better else 'lower'} "
        "is better). Only a better challenger supports promotion; data-quality problems "
        "void the decision."
    )
    if protocol.sequential:
        rule = (
            f"Group-sequential, {protocol.spending} alpha spending at looks "
            f"{list(protocol.information_fractions)}: stop when |z| crosses the look's "
            "boundary. " + rule
        )
    return rule


def _store_result(experiment: Experiment, result: dict[str, Any], *, status_before: str) -> None:
    experiment.result = result
    experiment.result_sha256 = rules.manifest_hash(result)
    experiment.status = Experiment.Status.ANALYSED
    experiment.analysed_at = timezone.now()
    experiment.updated_at = experiment.analysed_at
    experiment.save(
        update_fields=["result", "result_sha256", "status", "analysed_at", "updated_at"]
    )
    _audit(
        "experiment.analysed",
        experiment,
        by=None,
        reason=result["verdict"],
        status=(status_before, "analysed"),
        result_sha256=(None, experiment.result_sha256),
    )
    notify_owner(experiment, kind=Notification.Kind.EXPERIMENT_ANALYSED)
    if result.get("valid"):
        experiment_outcome_finding(experiment)
