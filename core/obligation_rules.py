"""Step 5: pure rules for obligations (no Django imports).

Derive the obligations a use case owes from the merged policy/regulation requirements,
and diff them against the active ones so a recompute writes only what changed.
"""

from dataclasses import dataclass, field
from typing import Any

from core import policy_rules

NONE = "none"

# Scope (issue 12): what is about the use case (its purpose, its documentation and
# review) is owed once per use case; what is about the model is owed by each version,
# with evidence produced for that version's artifact.
USE_CASE = "use_case"
VERSION = "version"
USE_CASE_SCOPED = frozenset({"audit-documentation"})


def scope_of(consideration: str) -> str:
    return USE_CASE if consideration in USE_CASE_SCOPED else VERSION


# The evidence an obligation's measure asks for, read from its parameters: a true
# boolean, or a choice value, names one item the evidence must cover. The obligation
# page lists them; the submitter says which items the evidence covers; acceptance
# refuses evidence that leaves one out.
EVIDENCE_ITEMS: dict[tuple[str, str], str] = {
    ("reproducibility", "record_deployed_metrics"): "metrics of the deployed model recorded",
    ("reproducibility", "environment_recreatable"): "environment re-creation recipe",
    ("reproducibility", "retrain_on_data_sample"): "retraining on a data sample shown",
    ("reproducibility", "full_snapshot"): "full environment and data snapshot",
    ("audit-documentation", "automated_documentation"): "automated documentation",
    ("preproduction-verification", "sanity_checks"): "database, software version and naming checks",
    ("preproduction-verification", "end_to_end_tests"): "automated end-to-end test results",
    ("preproduction-verification", "independent_or_production_like"): (
        "independent re-implementation or production-like test pipeline"
    ),
    ("transparency", "explanations_required"): "per-prediction explanations",
    ("bias-harm-testing", "automated_bias_checks"): "automated bias checks on subpopulations",
    ("bias-harm-testing", "red_team_testing"): "red-team adversarial testing report",
    ("deployment-mode", "containerised"): "containerised deployment",
    ("deployment-mode", "multi_node"): "elastic multi-node deployment",
    ("deployment-mode", "load_tested"): "load test report",
    ("production-monitoring", "real_time_alerting"): "real-time alerting",
    ("production-monitoring", "automated_retraining"): "automated retraining and re-evaluation",
    ("production-monitoring", "infrastructure_alerts"): "infrastructure alerts",
    ("data-quality-compliance", "pii_anonymisation"): "PII anonymisation",
    ("data-quality-compliance", "column_lineage_reviewed"): "reviewed column-level lineage",
    ("data-quality-compliance", "automated_quality_checks"): "automated data-quality checks",
}
EVIDENCE_CHOICE_ITEMS: dict[tuple[str, str, str], str] = {
    ("audit-documentation", "change_log", "all"): "log of all changes incl. experiments",
    ("audit-documentation", "change_log", "deployed"): "change log of the deployed model",
    ("transparency", "interpretability", "hand_coded_rules"): "hand-coded decision rules",
    ("transparency", "interpretability", "explainability_tools"): (
        "explainability report (e.g. Shapley values)"
    ),
}
for _code, _name in EVIDENCE_ITEMS:
    policy_rules.register_consumer("core.obligation_rules.evidence_items", _code, _name)
for _code, _name, _value in EVIDENCE_CHOICE_ITEMS:
    policy_rules.register_consumer("core.obligation_rules.evidence_items", _code, _name)


def evidence_items(consideration: str, parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """[(item code, label)] the evidence of an obligation must cover, from its
    parameters (in schema order)."""
    items = []
    for name in policy_rules.PARAMETER_SCHEMAS.get(consideration, {}):
        value = (parameters or {}).get(name)
        if value is True and (consideration, name) in EVIDENCE_ITEMS:
            items.append((name, EVIDENCE_ITEMS[(consideration, name)]))
        elif isinstance(value, str) and (consideration, name, value) in EVIDENCE_CHOICE_ITEMS:
            items.append((f"{name}:{value}", EVIDENCE_CHOICE_ITEMS[(consideration, name, value)]))
    return items


def uncovered(consideration: str, parameters: dict[str, Any], covers: list[str]) -> list[str]:
    """Labels of the evidence items that ``covers`` leaves out."""
    return [
        label for code, label in evidence_items(consideration, parameters) if code not in covers
    ]


# Which RACI task's Accountable person owns the obligation for each consideration.
CONSIDERATION_TASK = {
    "human-signoff": "model-acceptance",
    "bias-harm-testing": "model-acceptance",
    "preproduction-verification": "model-acceptance",
    "production-monitoring": "monitoring",
    "deployment-mode": "deployments",
    "reproducibility": "capitalization",
    "audit-documentation": "model-acceptance",
    "transparency": "data-modeling",
    "data-quality-compliance": "data-preparation",
}
DEFAULT_TASK = "model-acceptance"

# Days from creation until an obligation is due, by risk tier (1 Low .. 4 Critical):
# the riskier the use case, the sooner its measures must be evidenced.
DUE_DAYS_BY_TIER = {1: 90, 2: 60, 3: 30, 4: 30}
DEFAULT_DUE_DAYS = 60


@dataclass(frozen=True)
class Derived:
    """One obligation as derived from the requirements."""

    consideration: str
    level: str
    text: str
    parameters: dict[str, Any] = field(default_factory=dict)
    why: str = ""


@dataclass
class Diff:
    create: list[Derived] = field(default_factory=list)
    create_keys: list[Any] = field(default_factory=list)  # the key of each ``create``
    # (active key, new derived): the level or parameters changed -> supersede + create
    change: list[tuple[Any, Derived]] = field(default_factory=list)
    supersede: list[Any] = field(default_factory=list)
    # (active key, new derived): same level/parameters, only the why/text moved on
    unchanged: list[tuple[Any, Derived]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.change or self.supersede)


def task_for(consideration: str) -> str:
    return CONSIDERATION_TASK.get(consideration, DEFAULT_TASK)


def due_days(tier: int | None) -> int:
    return DUE_DAYS_BY_TIER.get(tier, DEFAULT_DUE_DAYS) if tier else DEFAULT_DUE_DAYS


def derive(requirements: dict[str, Any]) -> list[Derived]:
    """Obligations from {consideration: obj with level, text, parameters, why}; level
    "none" owes nothing."""
    return [
        Derived(
            consideration=code,
            level=req.level,
            text=req.text,
            parameters=dict(req.parameters or {}),
            why=req.why,
        )
        for code, req in requirements.items()
        if req.level and req.level != NONE
    ]


def expand(derived: list[Derived], version_ids: list[int]) -> dict[tuple, Derived]:
    """Key each derived obligation by (consideration, version id): once for the use
    case (version None) when use-case scoped, once per version otherwise."""
    out: dict[tuple, Derived] = {}
    for d in derived:
        if scope_of(d.consideration) == USE_CASE:
            out[(d.consideration, None)] = d
        else:
            for vid in version_ids:
                out[(d.consideration, vid)] = d
    return out


def diff(active: dict[Any, tuple[Any, str, dict]], derived: list[Derived] | dict) -> Diff:
    """Compare active obligations {key: (row, level, parameters)} with the derived
    ones: a list (keyed by consideration) or a dict {key: Derived} (see ``expand``)."""
    if not isinstance(derived, dict):
        derived = {d.consideration: d for d in derived}
    result = Diff()
    seen = set()
    for k, d in derived.items():
        seen.add(k)
        current = active.get(k)
        if current is None:
            result.create.append(d)
            result.create_keys.append(k)
            continue
        key, level, parameters = current
        if level != d.level or (parameters or {}) != d.parameters:
            result.change.append((key, d))
        else:
            result.unchanged.append((key, d))
    for code, (key, _level, _parameters) in active.items():
        if code not in seen:
            result.supersede.append(key)
    return result
