"""The rules of the Step 4 policy matrix, as pure functions (no Django imports).

A policy maps (risk tier, governance consideration) -> a measure level. Each
consideration has four measure levels, ranked ``none < light < medium < strict``,
and each measure carries machine-readable *parameters* that later steps read (sign-off
counts, monitoring cadence, bias thresholds): one copy of the rules.

Parameter schemas
-----------------
``PARAMETER_SCHEMAS[consideration_code]`` lists, for each parameter, a ``Param``:
its kind (``bool``, ``int``, ``number``, ``choice``, ``list``), whether ``None`` is
allowed (``nullable``), the allowed values of a ``choice`` or the items of a ``list``,
bounds of numbers, and a help text. Every parameter of the schema must be present in a
measure's parameters (so readers never guess a default) and no other key is allowed.
``validate_parameters`` returns the list of problems (empty when valid).

Summary of the schemas (see the code for bounds and help texts):

- reproducibility: record_deployed_metrics, environment_recreatable,
  retrain_on_data_sample, full_snapshot (bool)
- audit-documentation: change_log ("none" | "deployed" | "all"),
  automated_documentation (bool), periodic_review_days (int 30..1825 or null)
- human-signoff: signoffs_per_move (int 0..5), environments (list of dev/qa/preprod/prod),
  independent_validation (bool: a signed independent validation before preprod)
- preproduction-verification: sanity_checks, end_to_end_tests,
  independent_or_production_like (bool)
- transparency: interpretability ("opaque_accepted" | "explainability_tools" |
  "hand_coded_rules"), explanations_required (bool)
- bias-harm-testing: automated_bias_checks (bool), disparate_impact_min (0..1 or null),
  equalized_odds_max_diff (0..1 or null), red_team_testing (bool)
- deployment-mode: containerised, multi_node, load_tested (bool)
- production-monitoring: input_drift_cadence ("daily" | "weekly" | "monthly" | null),
  psi_max (0..10 or null), real_time_alerting, automated_retraining,
  infrastructure_alerts (bool)
- data-quality-compliance: pii_anonymisation, column_lineage_reviewed,
  automated_quality_checks (bool)

Every consideration also carries the gate parameters (``GATE_PARAMS``): ``blocks``
(the environments whose entry the obligation blocks until it is satisfied),
``evidence`` (what satisfies it: an accepted ``document``, the request's
``signatures``, or a ``monitoring-config`` of the version) and ``carry_over`` (whether
accepted evidence of the previous version may serve a new one whose change was
declared not material and confirmed by the second line).

Every parameter has a reader: ``register_consumer`` records, beside the code that reads
them, which parameters a module consumes, and a test fails on a parameter of the
default policy that nobody registered.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

# --- Measure levels --------------------------------------------------------------

NONE, LIGHT, MEDIUM, STRICT = "none", "light", "medium", "strict"
LEVELS: tuple[str, ...] = (NONE, LIGHT, MEDIUM, STRICT)
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
LEVEL_LABELS: dict[str, str] = {
    NONE: "None",
    LIGHT: "Light",
    MEDIUM: "Medium",
    STRICT: "Strict",
}

# --- Considerations (book's Table 8-3), in display order -------------------------------

CONSIDERATIONS: tuple[str, ...] = (
    "reproducibility",
    "audit-documentation",
    "human-signoff",
    "preproduction-verification",
    "transparency",
    "bias-harm-testing",
    "deployment-mode",
    "production-monitoring",
    "data-quality-compliance",
)


def level_rank(level: str) -> int:
    """The rank of a level (none 0 ... strict 3). Raises ValueError for an unknown one."""
    try:
        return LEVEL_RANK[level]
    except KeyError:
        raise ValueError(f"Unknown measure level {level!r}.") from None


def stricter(a: str, b: str) -> str:
    """The stricter of two levels (the first one on a tie)."""
    return b if level_rank(b) > level_rank(a) else a


# --- Parameter schemas -------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    kind: str  # bool | int | number | choice | list
    help: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


ENVIRONMENTS = ("dev", "qa", "preprod", "prod")
CADENCES = ("daily", "weekly", "monthly")

# What satisfies an obligation (its ``evidence`` parameter): a document accepted by
# the second line, the signatures of the promotion request itself, or the version's
# monitoring configuration (reported by the monitoring app through a registered check).
EVIDENCE_DOCUMENT = "document"
EVIDENCE_SIGNATURES = "signatures"
EVIDENCE_MONITORING = "monitoring-config"
EVIDENCE_KINDS = (EVIDENCE_DOCUMENT, EVIDENCE_SIGNATURES, EVIDENCE_MONITORING)

GATE_PARAMS: dict[str, Param] = {
    "blocks": Param(
        "list",
        "Environments the version may not enter until this obligation is satisfied.",
        choices=ENVIRONMENTS,
    ),
    "evidence": Param("choice", "What satisfies the obligation.", choices=EVIDENCE_KINDS),
    "carry_over": Param(
        "bool",
        "Accepted evidence of the previous version may serve a new version whose change "
        "is declared not material (same training data and features) and confirmed by a "
        "second-line reviewer.",
    ),
}

PARAMETER_SCHEMAS: dict[str, dict[str, Param]] = {
    "reproducibility": {
        "record_deployed_metrics": Param("bool", "Metrics of deployed models are recorded."),
        "environment_recreatable": Param("bool", "The environment can be re-created."),
        "retrain_on_data_sample": Param("bool", "The model can be retrained on a data sample."),
        "full_snapshot": Param(
            "bool", "Full environment and data snapshot for exact re-instantiation."
        ),
    },
    "audit-documentation": {
        "change_log": Param(
            "choice",
            "Which changes are logged: none, the deployed model's, or all incl. experiments.",
            choices=("none", "deployed", "all"),
        ),
        "automated_documentation": Param("bool", "The deployed model is documented automatically."),
        "periodic_review_days": Param(
            "int",
            "Days between periodic reviews of the use case; null for no periodic review.",
            nullable=True,
            minimum=30,
            maximum=1825,
        ),
    },
    "human-signoff": {
        "signoffs_per_move": Param(
            "int", "Distinct sign-offs needed for each listed move.", minimum=0, maximum=5
        ),
        "environments": Param(
            "list", "Target environments whose moves need the sign-offs.", choices=ENVIRONMENTS
        ),
        "independent_validation": Param(
            "bool",
            "A validator from outside the developing team signs a validation of the version "
            "(conclusion approve, or approve with conditions) before it enters preproduction; "
            "its findings are resolved or accepted before production (SR 11-7).",
        ),
    },
    "preproduction-verification": {
        "sanity_checks": Param(
            "bool", "Automated checks of database, software version and naming."
        ),
        "end_to_end_tests": Param("bool", "Automated end-to-end tests."),
        "independent_or_production_like": Param(
            "bool",
            "Independent re-implementation compared with the model, or a full automated test "
            "pipeline in a production-like environment.",
        ),
    },
    "transparency": {
        "interpretability": Param(
            "choice",
            "How interpretable the model must be.",
            choices=("opaque_accepted", "explainability_tools", "hand_coded_rules"),
        ),
        "explanations_required": Param(
            "bool", "Individual predictions must come with an explanation."
        ),
    },
    "bias-harm-testing": {
        "automated_bias_checks": Param(
            "bool", "Automated bias checks on named subpopulations before each release."
        ),
        "disparate_impact_min": Param(
            "number",
            "Lowest acceptable disparate-impact ratio (e.g. 0.8, the four-fifths rule).",
            nullable=True,
            minimum=0,
            maximum=1,
        ),
        "equalized_odds_max_diff": Param(
            "number",
            "Largest acceptable equalized-odds difference between subpopulations.",
            nullable=True,
            minimum=0,
            maximum=1,
        ),
        "red_team_testing": Param("bool", "Red-team adversarial testing before release."),
    },
    "deployment-mode": {
        "containerised": Param("bool", "Deployed as containers."),
        "multi_node": Param("bool", "Elastic, multi-node deployment."),
        "load_tested": Param("bool", "Load-tested before deployment."),
    },
    "production-monitoring": {
        "input_drift_cadence": Param(
            "choice",
            "How often input drift is computed; null for no drift monitoring.",
            nullable=True,
            choices=CADENCES,
        ),
        "psi_max": Param(
            "number",
            "Population stability index above which input drift raises an alert.",
            nullable=True,
            minimum=0,
            maximum=10,
        ),
        "real_time_alerting": Param("bool", "Alerts are raised in real time."),
        "automated_retraining": Param(
            "bool", "Retraining and re-evaluation are automated (else manual)."
        ),
        "infrastructure_alerts": Param("bool", "Basic infrastructure alerts."),
    },
    "data-quality-compliance": {
        "pii_anonymisation": Param("bool", "Personal data is anonymised."),
        "column_lineage_reviewed": Param("bool", "Column-level lineage is recorded and reviewed."),
        "automated_quality_checks": Param("bool", "Automated data-quality checks."),
    },
}


for _schema in PARAMETER_SCHEMAS.values():
    _schema.update(GATE_PARAMS)


def _check_value(name: str, spec: Param, value: Any) -> str | None:
    if value is None:
        return None if spec.nullable else f"{name}: a value is required."
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"{name}: must be true or false."
    if spec.kind in ("int", "number"):
        return _check_number(name, spec, value)
    if spec.kind == "choice":
        if value not in spec.choices:
            return f"{name}: must be one of {', '.join(spec.choices)}."
        return None
    if spec.kind == "list":
        if not isinstance(value, list) or any(v not in spec.choices for v in value):
            return f"{name}: must be a list of {', '.join(spec.choices)}."
        if len(set(value)) != len(value):
            return f"{name}: lists a value twice."
        return None
    return f"{name}: unknown parameter kind {spec.kind!r}."  # pragma: no cover


def _check_number(name: str, spec: Param, value: Any) -> str | None:
    """A parameter of kind "int" or "number" (never None here)."""
    ok = isinstance(value, int) if spec.kind == "int" else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        kind = "a whole number" if spec.kind == "int" else "a number"
        return f"{name}: must be {kind}."
    if spec.minimum is not None and value < spec.minimum:
        return f"{name}: must be at least {spec.minimum:g}."
    if spec.maximum is not None and value > spec.maximum:
        return f"{name}: must be at most {spec.maximum:g}."
    return None


def validate_parameters(consideration: str, parameters: Any) -> list[str]:
    """Problems with a measure's parameters under its consideration's schema."""
    schema = PARAMETER_SCHEMAS.get(consideration)
    if schema is None:
        return [f"Unknown consideration {consideration!r}."]
    if not isinstance(parameters, dict):
        return ["Parameters must be an object."]
    errors = [
        f"{key}: not a parameter of {consideration}." for key in parameters if key not in schema
    ]
    for name, spec in schema.items():
        if name not in parameters:
            errors.append(f"{name}: missing.")
            continue
        problem = _check_value(name, spec, parameters[name])
        if problem:
            errors.append(problem)
    return errors


def schema_as_data(consideration: str) -> dict[str, dict[str, Any]]:
    """A consideration's parameter schema as plain JSON data (for the API)."""
    return {
        name: {
            "kind": p.kind,
            "help": p.help,
            "nullable": p.nullable,
            **({"choices": list(p.choices)} if p.choices else {}),
            **({"minimum": p.minimum} if p.minimum is not None else {}),
            **({"maximum": p.maximum} if p.maximum is not None else {}),
        }
        for name, p in PARAMETER_SCHEMAS.get(consideration, {}).items()
    }


# --- The matrix ------------------------------------------------------------------------

Cells = Mapping[tuple[int, str], str | None]


def validate_matrix(
    cells: Cells, *, tiers: Iterable[tuple[int, str]], considerations: Iterable[tuple[str, str]]
) -> list[str]:
    """Problems that stop a matrix from being published, as readable sentences.

    Args:
        cells: {(tier, consideration code): level or None/""}.
        tiers, considerations: (value, label) pairs; every pair of them needs a cell.
    """
    tiers = list(tiers)
    considerations = list(considerations)
    if not cells:
        return ["The policy is empty: give every risk tier a measure for every consideration."]
    tier_labels = dict(tiers)
    names = dict(considerations)
    errors: list[str] = []
    for tier, code in cells:
        if tier not in tier_labels:
            errors.append(f"Unknown risk tier {tier!r}.")
        if code not in names:
            errors.append(f"Unknown consideration {code!r}.")
    for tier, tier_label in tiers:
        for code, name in considerations:
            level = cells.get((tier, code))
            if not level:
                errors.append(f"{tier_label} × {name}: the cell names no measure.")
            elif level not in LEVEL_RANK:
                errors.append(f"{tier_label} × {name}: unknown measure level {level!r}.")
    return errors


class CellChange(NamedTuple):
    tier: int
    consideration: str
    before: str | None
    after: str | None


def diff_matrices(old: Cells, new: Cells) -> list[CellChange]:
    """The cells whose level differs between two matrices (added and removed cells too),
    ordered by tier then consideration (in ``CONSIDERATIONS`` order, unknown codes last)."""
    order = {code: i for i, code in enumerate(CONSIDERATIONS)}
    keys = sorted(set(old) | set(new), key=lambda k: (k[0], order.get(k[1], len(order)), k[1]))
    return [
        CellChange(tier, code, old.get((tier, code)), new.get((tier, code)))
        for tier, code in keys
        if old.get((tier, code)) != new.get((tier, code))
    ]


# --- Merging the policy with regulations' minimums -------------------------------------


class Minimum(NamedTuple):
    """A regulation requirement's floor on one consideration."""

    consideration: str
    level: str
    source: str  # e.g. "GDPR — gdpr-art-22: object to automated decision-making"


class Decision(NamedTuple):
    level: str
    why: str


def merge_requirements(
    policy_levels: Mapping[str, str], minimums: Iterable[Minimum], *, policy_label: str
) -> dict[str, Decision]:
    """For each consideration, the stricter of the policy cell and the regulations'
    minimums, with the reason.

    The policy wins ties (a regulation is only named when it raises the level).
    Considerations only named by a regulation are included too.
    """
    result = {
        code: Decision(level, f"{policy_label} requires {LEVEL_LABELS[level].lower()}.")
        for code, level in policy_levels.items()
    }
    by_code: dict[str, list[Minimum]] = {}
    for minimum in minimums:
        level_rank(minimum.level)
        by_code.setdefault(minimum.consideration, []).append(minimum)
    for code, mins in by_code.items():
        top = max(level_rank(m.level) for m in mins)
        current = result.get(code)
        if current is not None and level_rank(current.level) >= top:
            continue
        level = LEVELS[top]
        sources = "; ".join(sorted({m.source for m in mins if level_rank(m.level) == top}))
        before = (
            f"{policy_label} requires {LEVEL_LABELS[current.level].lower()}"
            if current
            else "The policy sets no level"
        )
        result[code] = Decision(
            level, f"{before}; raised to {LEVEL_LABELS[level].lower()} by {sources}."
        )
    return result


# --- Who reads the parameters ------------------------------------------------------------

# (consideration, parameter) -> the modules that read it. Each reader registers itself
# beside the code that reads (``register_consumer``); a test enumerates the default
# policy's parameters and fails on one nobody reads.
PARAMETER_CONSUMERS: dict[tuple[str, str], set[str]] = {}


def register_consumer(consumer: str, consideration: str | None, *names: str) -> None:
    """Record that ``consumer`` reads ``names`` of ``consideration`` (None: of every
    consideration). Raises ValueError for a parameter no schema has, so the registry
    cannot name a parameter that does not exist."""
    codes = CONSIDERATIONS if consideration is None else (consideration,)
    for code in codes:
        schema = PARAMETER_SCHEMAS.get(code)
        if schema is None:
            raise ValueError(f"Unknown consideration {code!r}.")
        for name in names:
            if name not in schema:
                raise ValueError(f"{name!r} is not a parameter of {code}.")
            PARAMETER_CONSUMERS.setdefault((code, name), set()).add(consumer)


def unread_parameters(parameters_by_consideration: Mapping[str, Iterable[str]]) -> list[str]:
    """The "consideration.parameter" names that no registered consumer reads."""
    return sorted(
        f"{code}.{name}"
        for code, names in parameters_by_consideration.items()
        for name in names
        if not PARAMETER_CONSUMERS.get((code, name))
    )
