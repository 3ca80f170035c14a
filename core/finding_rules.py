"""Findings management rules (issue 16), pure (no Django imports).

A finding has a severity (low, medium, high, critical). The policy says, per
severity, how many days its owner has to remediate it, the lowest authority that may
accept its risk instead and for how long at most, and which moves of the version it
blocks while unresolved. A finding moves

    open -> remediation planned -> remediated -> verified -> closed

(the owner plans and remediates; someone from the second line who is not the owner and
did not remediate it verifies; the second line closes only what was verified), or
``open | remediation planned -> risk accepted``, signed by the authority the policy
names, until a date; the day after, the finding is open again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

LOW, MEDIUM, HIGH, CRITICAL = "low", "medium", "high", "critical"
SEVERITIES: tuple[str, ...] = (LOW, MEDIUM, HIGH, CRITICAL)
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

OPEN = "open"
PLANNED = "planned"
REMEDIATED = "remediated"
VERIFIED = "verified"
CLOSED = "closed"
ACCEPTED = "accepted"
STATUSES: tuple[str, ...] = (OPEN, PLANNED, REMEDIATED, VERIFIED, CLOSED, ACCEPTED)
STATUS_LABELS = {
    OPEN: "Open",
    PLANNED: "Remediation planned",
    REMEDIATED: "Remediated",
    VERIFIED: "Verified",
    CLOSED: "Closed",
    ACCEPTED: "Risk accepted",
}
# Still to be dealt with: these block the moves their severity's rule names and count
# against the due date. (Verified waits only for closing; accepted waits for expiry.)
UNRESOLVED = frozenset({OPEN, PLANNED, REMEDIATED})
# Not closed: an automated source re-finds its finding among these.
NOT_CLOSED = frozenset(set(STATUSES) - {CLOSED})

# Who may do each move: the finding's owner (or the model's team), or the second line.
OWNER, SECOND_LINE, SYSTEM = "owner", "second line", "system"
TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, PLANNED): OWNER,
    (PLANNED, PLANNED): OWNER,
    (OPEN, REMEDIATED): OWNER,
    (PLANNED, REMEDIATED): OWNER,
    (REMEDIATED, VERIFIED): SECOND_LINE,
    (REMEDIATED, PLANNED): SECOND_LINE,  # verification refused: back to the plan
    (VERIFIED, CLOSED): SECOND_LINE,
    (OPEN, ACCEPTED): SECOND_LINE,
    (PLANNED, ACCEPTED): SECOND_LINE,
    (ACCEPTED, ACCEPTED): SECOND_LINE,  # a new acceptance (renewed or changed)
    (ACCEPTED, OPEN): SYSTEM,  # the acceptance expired
}

# Authorities that may accept a risk, lowest first: a higher one may do what a lower may.
AUTHORITIES: tuple[str, ...] = ("risk-officer", "governance-lead")
AUTHORITY_RANK = {a: i for i, a in enumerate(AUTHORITIES)}
MOVES: tuple[str, ...] = ("dev", "qa", "preprod", "prod")


@dataclass(frozen=True)
class SeverityRule:
    """What the policy says about findings of one severity."""

    severity: str
    remediation_days: int
    acceptance_authority: str
    acceptance_max_days: int
    blocks: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "remediation_days": self.remediation_days,
            "acceptance_authority": self.acceptance_authority,
            "acceptance_max_days": self.acceptance_max_days,
            "blocks": list(self.blocks),
        }


# The product's defaults, used by a policy version that predates finding rules. An
# unresolved finding of medium severity or above blocks every promotion (as findings
# always did); a low one is tracked and blocks nothing.
DEFAULT_RULES: dict[str, SeverityRule] = {
    LOW: SeverityRule(LOW, 180, "risk-officer", 365, ()),
    MEDIUM: SeverityRule(MEDIUM, 90, "risk-officer", 365, MOVES),
    HIGH: SeverityRule(HIGH, 30, "governance-lead", 180, MOVES),
    CRITICAL: SeverityRule(CRITICAL, 14, "governance-lead", 90, MOVES),
}

MAX_REMEDIATION_DAYS = 730
MAX_ACCEPTANCE_DAYS = 365


def due_on(opened: date, rule: SeverityRule) -> date:
    """The day a finding opened on ``opened`` must be remediated by."""
    return opened + timedelta(days=rule.remediation_days)


def transition_refusal(current: str, target: str) -> str | None:
    """Why a finding cannot move from ``current`` to ``target``, or None."""
    if (current, target) in TRANSITIONS:
        return None
    label, to = STATUS_LABELS.get(current, current), STATUS_LABELS.get(target, target)
    if target == CLOSED:
        return (
            f"The finding is {label.lower()}: it is closed only once the second line has "
            "verified its remediation."
        )
    if target == VERIFIED:
        return f"The finding is {label.lower()}: only a remediated finding is verified."
    if current == CLOSED:
        return "The finding is closed; open a new finding if the problem is back."
    return f"A finding that is {label.lower()} cannot become {to.lower()}."


def actor_of(current: str, target: str) -> str | None:
    """Who makes the move (OWNER, SECOND_LINE or SYSTEM), or None if no such move."""
    return TRANSITIONS.get((current, target))


def blocks(rule: SeverityRule, status: str, target: str) -> bool:
    """An unresolved finding blocks the moves its severity's rule names."""
    return status in UNRESOLVED and target in rule.blocks


def authority_suffices(held: Iterable[str], required: str) -> bool:
    """Whether any authority in ``held`` is at least ``required``."""
    need = AUTHORITY_RANK[required]
    return any(AUTHORITY_RANK.get(a, -1) >= need for a in held)


def is_overdue(status: str, due: date | None, today: date) -> bool:
    return status in UNRESOLVED and due is not None and due < today


AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30 days", 0, 30),
    ("31-90 days", 31, 90),
    ("91-180 days", 91, 180),
    ("over 180 days", 181, None),
)


def age_bucket(days: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][0]


def ageing(rows: Iterable[tuple[str, int]]) -> dict[str, dict[str, int]]:
    """{age bucket: {severity: count}} of (severity, age in days) rows, every bucket and
    severity present (zeros included), in order."""
    out = {label: dict.fromkeys(SEVERITIES, 0) for label, _, _ in AGE_BUCKETS}
    for severity, days in rows:
        if severity in SEVERITY_RANK:
            out[age_bucket(max(days, 0))][severity] += 1
    return out


def _is_int(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _row_errors(severity: str, row: Mapping[str, Any]) -> list[str]:
    errors = []
    if not _is_int(row.get("remediation_days"), 1, MAX_REMEDIATION_DAYS):
        errors.append(
            f"{severity}: remediation days must be a whole number from 1 to {MAX_REMEDIATION_DAYS}."
        )
    if not _is_int(row.get("acceptance_max_days"), 1, MAX_ACCEPTANCE_DAYS):
        errors.append(
            f"{severity}: an acceptance runs from 1 to {MAX_ACCEPTANCE_DAYS} days at most."
        )
    if row.get("acceptance_authority") not in AUTHORITY_RANK:
        errors.append(f"{severity}: the accepting authority is one of {', '.join(AUTHORITIES)}.")
    moves = row.get("blocks")
    if not isinstance(moves, list | tuple) or any(m not in MOVES for m in moves):
        errors.append(f"{severity}: blocked moves are a list of {', '.join(MOVES)}.")
    return errors


def _order_errors(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    errors = []
    for lower, higher in zip(SEVERITIES, SEVERITIES[1:], strict=False):
        lo, hi = rows[lower], rows[higher]
        if AUTHORITY_RANK[hi["acceptance_authority"]] < AUTHORITY_RANK[lo["acceptance_authority"]]:
            errors.append(
                f"{higher}: its risk cannot be accepted by a lower authority than {lower}'s."
            )
        if hi["remediation_days"] > lo["remediation_days"]:
            errors.append(f"{higher}: it cannot have longer to remediate than {lower}.")
        if hi["acceptance_max_days"] > lo["acceptance_max_days"]:
            errors.append(f"{higher}: its risk cannot be accepted for longer than {lower}'s.")
        if not set(lo["blocks"]) <= set(hi["blocks"]):
            errors.append(f"{higher}: it must block at least the moves {lower} blocks.")
    return errors


def validate_rules(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Field errors of a policy's finding rules {severity: {remediation_days,
    acceptance_authority, acceptance_max_days, blocks}}: every severity present, days in
    range, a known authority and known moves, and an authority, a deadline, an
    acceptance length and blocked moves that do not loosen as severity rises."""
    errors: list[str] = []
    missing = [s for s in SEVERITIES if s not in rows]
    if missing:
        errors.append(f"Give a rule for every severity (missing: {', '.join(missing)}).")
    unknown = sorted(set(rows) - set(SEVERITIES))
    if unknown:
        errors.append(f"Unknown severity {', '.join(unknown)}: use {', '.join(SEVERITIES)}.")
    for severity in (s for s in SEVERITIES if s in rows):
        errors.extend(_row_errors(severity, rows[severity]))
    if not errors:
        errors.extend(_order_errors(rows))
    return {"finding_rules": errors} if errors else {}


def rules_from_rows(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, SeverityRule]:
    """Rules from stored rows, the defaults filling any severity the rows lack."""
    out = dict(DEFAULT_RULES)
    for severity, row in rows.items():
        if severity in SEVERITY_RANK:
            out[severity] = SeverityRule(
                severity,
                int(row["remediation_days"]),
                str(row["acceptance_authority"]),
                int(row["acceptance_max_days"]),
                tuple(m for m in MOVES if m in (row.get("blocks") or ())),
            )
    return out
