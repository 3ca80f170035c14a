"""Reads of pre-registered experiments (issue #7): who sees what, accrual against the
plan, the per-unit data an analysis runs on, and what may be shown when.

No effect size or p-value leaves this module before the pre-registered end: the
result of an experiment is readable only once it is analysed, and the interim looks
of a sequential design only as they are taken (``visible_result``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser, has_any_role
from core import experiment_stats as st
from experiments.models import Experiment, ExperimentOutcome
from experiments.permissions import can_run_experiment
from inventory.models import ModelVersion, UseCase
from reviews.models import Signature


def experiment_list(
    *, user: AnyUser, use_case: UseCase | None = None, status: str | None = None
) -> QuerySet[Experiment]:
    """Every experiment for anyone with a role (one inventory), newest first."""
    if not has_any_role(user):
        return Experiment.objects.none()
    qs = Experiment.objects.select_related(
        "use_case", "champion__model", "challenger__model", "owner"
    )
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if status:
        qs = qs.filter(status=status)
    return qs


def experiment_get(*, pk: int, user: AnyUser) -> Experiment:
    """Raises Experiment.DoesNotExist when missing or not visible."""
    return experiment_list(user=user).get(pk=pk)


def protocol(experiment: Experiment) -> st.Protocol:
    """The stored protocol, validated again (it was valid when saved)."""
    return st.validate_protocol(experiment.protocol)


def protocol_document(experiment: Experiment) -> dict[str, Any]:
    """Exactly what the signature on the protocol binds to (its SHA-256 is the
    signature's manifest hash)."""

    def version(v: ModelVersion) -> dict[str, Any]:
        return {"id": v.pk, "label": v.version_label, "artifact_sha256": v.artifact_sha256}

    return {
        "experiment": experiment.pk,
        "use_case": {"id": experiment.use_case_id, "name": experiment.use_case.name},
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "champion": version(experiment.champion),
        "challenger": version(experiment.challenger),
        "design": experiment.design,
        "primary_metric": experiment.primary_metric,
        "metric_kind": experiment.metric_kind,
        "population": experiment.population,
        "splitting": experiment.splitting,
        "entity_key_name": experiment.entity_key_name,
        "protocol": experiment.protocol,
        "sample_size": experiment.sample_size,
        "planned_units": experiment.planned_units,
        "planned_days": experiment.planned_days,
        "salt": experiment.salt,
        "assignment": experiment.assignment,
        "duration_days": experiment.duration_days,
    }


def recipe_visible(experiment: Experiment, user: AnyUser) -> bool:
    """The salt and the assignment recipe are shown after the lock, when the product
    assigns, to those who run the experiment (issue 14): before the lock the salt could
    still be changed to pick units."""
    return (
        user is not None
        and not experiment.is_draft
        and experiment.assigned_by_product
        and can_run_experiment(user, experiment.use_case)
    )


# --- Accrual -------------------------------------------------------------------------------


@dataclass
class Accrual:
    """Units with an outcome per arm (A/B) or pairs (shadow) against the plan."""

    observed: dict[str, int]
    planned: dict[str, int]
    rows: int
    days_elapsed: float | None
    planned_days: int | None
    fraction: float
    complete: bool
    started_at: datetime | None = None
    planned_end: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": self.observed,
            "planned": self.planned,
            "rows": self.rows,
            "days_elapsed": self.days_elapsed,
            "planned_days": self.planned_days,
            "fraction": self.fraction,
            "complete": self.complete,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "planned_end": self.planned_end.isoformat() if self.planned_end else None,
            "health": self.health,
        }


def accrual(experiment: Experiment, *, now: datetime | None = None) -> Accrual:
    """Distinct units with an observed outcome per arm, against the planned maximum."""
    outcomes = ExperimentOutcome.objects.filter(experiment=experiment)
    planned = {k: int(v) for k, v in (experiment.sample_size.get("maximum") or {}).items()}
    if experiment.is_paired:
        done = outcomes.filter(champion_outcome__isnull=False, challenger_outcome__isnull=False)
        observed = {"pairs": done.values("entity_key").distinct().count()}
    else:
        counts = (
            outcomes.filter(outcome__isnull=False)
            .values("arm")
            .annotate(n=Count("entity_key", distinct=True))
        )
        observed = {arm: 0 for arm in st.ARMS}
        observed.update({c["arm"]: c["n"] for c in counts})
    fraction = min((observed.get(k, 0) / v for k, v in planned.items() if v), default=0.0)
    now = now or timezone.now()
    elapsed = None
    if experiment.started_at:
        end = experiment.ended_at or experiment.abandoned_at or now
        elapsed = round((end - experiment.started_at).total_seconds() / 86400.0, 2)
    return Accrual(
        observed=observed,
        planned=planned,
        rows=outcomes.count(),
        days_elapsed=elapsed,
        planned_days=experiment.planned_days,
        fraction=min(fraction, 1.0),
        complete=bool(planned) and fraction >= 1.0,
        started_at=experiment.started_at,
        planned_end=experiment.planned_end,
        health=accrual_health(experiment),
    )


MIN_EXPECTED_UNITS = 5  # per arm, before the chi-square of the counts means anything


def accrual_health(experiment: Experiment) -> dict[str, Any]:
    """Units per arm so far (distinct keys, with or without an outcome) and the
    sample-ratio check of those counts against the planned split (issue 14). Counts
    only: it reveals nothing of the effect, so it is shown while the test runs. Empty
    for a shadow comparison or a draft."""
    if experiment.is_paired or experiment.is_draft:
        return {}
    counts = (
        ExperimentOutcome.objects.filter(experiment=experiment)
        .values("arm")
        .annotate(n=Count("entity_key", distinct=True))
    )
    units = {arm: 0 for arm in st.ARMS}
    units.update({c["arm"]: c["n"] for c in counts if c["arm"] in units})
    split = experiment.protocol["split"]
    total = sum(units.values())
    if min(total * float(split[a]) / 100 for a in st.ARMS) < MIN_EXPECTED_UNITS:
        return {"units": units, "mismatch": False, "verdict": "too few units yet"}
    srm = st.sample_ratio_mismatch(units, split, experiment.protocol.get("srm_alpha", 0.001))
    verdict = (
        f"sample-ratio mismatch (chi-square p = {srm.p_value:.3g} < {srm.srm_alpha})"
        if srm.mismatch
        else f"no sample-ratio mismatch (chi-square p = {srm.p_value:.3g})"
    )
    return {
        "units": units,
        "rows": [
            {
                "arm": a,
                "units": units[a],
                "share": round(100.0 * units[a] / total, 1),
                "planned_share": float(split[a]),
            }
            for a in st.ARMS
        ],
        # named apart from a test's p-value: these are counts, never the effect
        "expected": srm.expected,
        "chi_square": srm.statistic,
        "sample_ratio_p": srm.p_value,
        "srm_alpha": srm.srm_alpha,
        "mismatch": srm.mismatch,
        "verdict": verdict,
    }


def next_look(experiment: Experiment) -> tuple[int, float] | None:
    """(index, planned information fraction) of the next interim look, or None when
    the design is fixed-horizon or every interim look was taken."""
    looks = tuple(experiment.protocol.get("interim_looks") or ())
    taken = len(experiment.looks or [])
    interim = [t for t in looks if t < 1.0]
    if taken >= len(interim):
        return None
    return taken, float(interim[taken])


# --- What an analysis reads ---------------------------------------------------------------


@dataclass
class AnalysisData:
    """Per-unit data reduced to what the registered test and the checks need. The
    first row with an outcome counts for a unit; further rows are duplicates."""

    assigned: dict[str, int]
    with_outcome: dict[str, int]
    duplicated: dict[str, int]
    values: dict[str, list[float]]  # A/B: per arm; shadow: "champion"/"challenger" paired
    guardrails: dict[str, dict[str, list[float]]]  # name -> arm -> values
    mismatched: int = 0  # units not in the arm they were assigned to (issue 14)


def analysis_data(experiment: Experiment) -> AnalysisData:
    """The experiment's outcome rows, in the order they were stored, reduced to
    ``AnalysisData`` (see ``_Reduction``)."""
    rows = (
        ExperimentOutcome.objects.filter(experiment=experiment)
        .order_by("id")
        .values_list(
            "entity_key", "arm", "outcome", "champion_outcome", "challenger_outcome", "guardrails"
        )
    )
    names = [g["name"] for g in experiment.protocol.get("guardrails") or []]
    reduction = _Reduction(paired=experiment.is_paired, names=names)
    for row in rows:
        reduction.add(*row)
    data = reduction.result()
    if experiment.assigned_by_product:
        # Checked row by row on upload; checked again here, so that a row that reached
        # the table another way cannot pass (issue 14: assignment mismatch).
        split = experiment.protocol["split"]
        data.mismatched += sum(
            st.assign_arm(experiment.salt, key, split) != arm
            for key, arm in reduction.arm_of.items()
        )
    return data


class _Reduction:
    """Folds outcome rows into ``AnalysisData``: per group (the arm, or "pairs" for a
    shadow comparison), the keys seen, the keys with an outcome and the keys seen again
    with an outcome; the values of each unit's first observed row (both models' outcomes
    for a pair) and its registered guardrails."""

    def __init__(self, *, paired: bool, names: list[str]) -> None:
        self.paired = paired
        self.names = names
        groups = ("pairs",) if paired else st.ARMS
        self.assigned: dict[str, set] = {g: set() for g in groups}
        self.used: dict[str, set] = {g: set() for g in groups}
        self.duplicated: dict[str, set] = {g: set() for g in groups}
        self.values: dict[str, list[float]] = {a: [] for a in st.ARMS}
        self.guard: dict[str, dict[str, list[float]]] = {n: {a: [] for a in st.ARMS} for n in names}
        self.arm_of: dict[str, str] = {}  # A/B: each unit's first arm
        self.crossed: set[str] = set()  # A/B: units seen in both arms

    def add(self, key, arm, outcome, champ, chall, guards) -> None:
        paired = self.paired
        group = "pairs" if paired else arm
        if not paired:
            first = self.arm_of.setdefault(key, arm)
            if first != arm:
                self.crossed.add(key)
                return
        self.assigned[group].add(key)
        observed = champ is not None and chall is not None if paired else outcome is not None
        if not observed:
            return
        if key in self.used[group]:
            self.duplicated[group].add(key)
            return
        self.used[group].add(key)
        if paired:
            self.values["champion"].append(champ)
            self.values["challenger"].append(chall)
        else:
            self.values[arm].append(outcome)
        self._add_guardrails(arm, guards)

    def _add_guardrails(self, arm: str, guards: dict[str, Any] | None) -> None:
        for name in self.names:
            value = (guards or {}).get(name)
            if self.paired and isinstance(value, dict):
                for a in st.ARMS:
                    if value.get(a) is not None:
                        self.guard[name][a].append(float(value[a]))
            elif not self.paired and value is not None:
                self.guard[name][arm].append(float(value))

    def result(self) -> AnalysisData:
        return AnalysisData(
            assigned={g: len(s) for g, s in self.assigned.items()},
            with_outcome={g: len(s) for g, s in self.used.items()},
            duplicated={g: len(s) for g, s in self.duplicated.items()},
            values=self.values,
            guardrails=self.guard,
            mismatched=len(self.crossed),
        )


# --- What may be shown ------------------------------------------------------------------


def result_available(experiment: Experiment) -> bool:
    """True once the pre-registered analysis is done (the end, or a look that stopped)."""
    return experiment.status == Experiment.Status.ANALYSED and bool(experiment.result)


# What a result that is not valid does not show (issue 14): the test, its effect and
# p-value, the decision, the sequential boundaries and the arms' estimates.
WITHHELD = ("test", "sequential", "decision", "arms")


def result_override(experiment: Experiment) -> Signature | None:
    """The governance lead's signed override of a failed data-quality step, if any."""
    return (
        experiment.signatures.filter(meaning=Signature.Meaning.RESULT_OVERRIDDEN)
        .select_related("signer")
        .first()
    )


def result_valid(experiment: Experiment) -> bool:
    """The analysed result passed its data-quality step and its test ran (a result
    stored before issue 14 carries no ``valid`` and is read from its parts)."""
    result = experiment.result or {}
    if "valid" in result:
        return bool(result["valid"])
    return bool(result.get("data_quality_passed")) and not result.get("error")


def result_signable(experiment: Experiment) -> bool:
    """Analysed, and valid or overridden by a governance lead's signature."""
    if not result_available(experiment):
        return False
    return result_valid(experiment) or result_override(experiment) is not None


def result_not_signable_reason(experiment: Experiment) -> str:
    """Why the result cannot be signed nor filed as evidence ('' when it can)."""
    if not result_available(experiment):
        return "The result is signed after the pre-registered analysis."
    if result_signable(experiment):
        return ""
    result = experiment.result or {}
    if result.get("error"):
        return f"The result is not analysable ({result['error']}): it cannot be signed."
    reasons = "; ".join(result.get("problems") or ()) or "the data-quality checks failed"
    return (
        f"The result is not valid ({reasons}): it cannot be signed nor filed as evidence. "
        "A governance lead may override the data-quality step with a signed justification."
    )


def promotion_support_refusal(experiment: Experiment) -> str:
    """Why the signed result cannot support the challenger's promotion ('' when it
    can): only a decision that the challenger is better, or non-inferior under a
    pre-registered margin, is evidence for it (issue 14)."""
    decision = (experiment.result or {}).get("decision", "")
    if decision in st.SUPPORTS_PROMOTION:
        return ""
    verdict = (experiment.result or {}).get("verdict", "") or "no decision"
    return (
        f"The result ({verdict}) does not say the challenger is better"
        f"{' or non-inferior' if experiment.protocol.get('non_inferiority_margin') else ''}: "
        "it is not evidence for its promotion; a finding is open against the challenger."
    )


def visible_result(experiment: Experiment) -> dict[str, Any]:
    """What any reader may see now: after the analysis, the full result when it is
    valid (or a governance lead overrode its data-quality step), otherwise the verdict
    and the data-quality reasons without the test, effect, p-value or decision; before
    the analysis, only the interim looks already taken (sequential designs) and never
    a p-value or an effect estimate of data not yet at a registered look."""
    if not result_available(experiment):
        return {"available": False, "result": None, "looks": experiment.looks or []}
    result = dict(experiment.result)
    if not result_signable(experiment):
        result = {k: v for k, v in result.items() if k not in WITHHELD}
        result["valid"] = False
        result["withheld"] = list(WITHHELD)
    return {"available": True, "result": result, "looks": experiment.looks}


def unit_rows(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The result's unit counts as table rows, one per arm (or "pairs"): assigned,
    with an outcome, missing, duplicated and, for an A/B test, the count the planned
    split expected (issue 14: a table, not a dict)."""
    units = (result or {}).get("units") or {}
    assigned = units.get("assigned") or {}
    expected = (((result or {}).get("data_quality") or {}).get("srm") or {}).get("expected") or {}
    rows = []
    for group, n in assigned.items():
        with_outcome = (units.get("with_outcome") or {}).get(group, 0)
        rows.append(
            {
                "group": group,
                "assigned": n,
                "with_outcome": with_outcome,
                "missing": n - with_outcome,
                "duplicated": (units.get("duplicated") or {}).get(group, 0),
                "expected": expected.get(group),
            }
        )
    return rows
