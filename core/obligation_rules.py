"""Step 5: pure rules for obligations (no Django imports).

Derive the obligations a use case owes from the merged policy/regulation requirements,
and diff them against the active ones so a recompute writes only what changed.
"""

from dataclasses import dataclass, field
from typing import Any

NONE = "none"

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


def diff(active: dict[str, tuple[Any, str, dict]], derived: list[Derived]) -> Diff:
    """Compare active obligations {consideration: (key, level, parameters)} with the
    derived list."""
    result = Diff()
    seen = set()
    for d in derived:
        seen.add(d.consideration)
        current = active.get(d.consideration)
        if current is None:
            result.create.append(d)
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
