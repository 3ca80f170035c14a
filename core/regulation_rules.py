"""Whether a use case meets a regulation's requirement (issue 12: regulations as
enforced requirements). Pure: plain values in, plain values out.

A requirement names a minimum measure level on one or more considerations; the use
case's obligation on each consideration is its evidence. A requirement is

- ``met`` when every such obligation exists at or above the minimum and is accepted;
- ``waived`` when every one is accepted or waived, and at least one waived;
- ``open`` when an obligation is open or its evidence awaits acceptance;
- ``missing`` when an obligation is absent or below the minimum (the policy and the
  regulation disagree: the use case owes less than the regulation asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.policy_rules import level_rank

MET, WAIVED, OPEN, MISSING = "met", "waived", "open", "missing"
STATE_LABELS = {
    MET: "Met",
    WAIVED: "Met by waiver",
    OPEN: "Not met yet",
    MISSING: "Not covered",
}
_WORST = [MISSING, OPEN, WAIVED, MET]


@dataclass(frozen=True)
class PartState:
    consideration: str
    min_level: str
    state: str
    obligation: dict[str, Any] | None  # {"level", "status", ...} as given, or None


def part_state(min_level: str, obligation: dict[str, Any] | None) -> str:
    if obligation is None or level_rank(obligation.get("level", "none")) < level_rank(min_level):
        return MISSING
    status = obligation.get("status")
    if status == "accepted":
        return MET
    if status == "waived":
        return WAIVED
    return OPEN


def requirement_state(
    minimums: dict[str, str], obligations: dict[str, dict[str, Any]]
) -> tuple[str, list[PartState]]:
    """The requirement's state and each consideration's part of it.

    ``minimums``: consideration code -> minimum level; ``obligations``: consideration
    code -> the use case's active obligation as a dict with "level" and "status".
    """
    parts = [
        PartState(code, level, part_state(level, obligations.get(code)), obligations.get(code))
        for code, level in minimums.items()
    ]
    if not parts:
        return MET, parts
    worst = min((p.state for p in parts), key=_WORST.index)
    return worst, parts
