"""Pure rules of the sign-off workflow (no Django imports).

Which moves a model version may ask for, which sign-offs a move needs, what blocks it,
who may not sign (segregation of duties), and the manifest a signature is bound to.
The services feed these functions plain data read from the database and write what
they decide.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# The promotion path. A version moves one step at a time; "retired" is terminal.
ORDER = ["dev", "qa", "preprod", "prod"]
RETIRED = "retired"

PROMOTE = "promote"
ROLLBACK = "rollback"
RETIRE = "retire"
KINDS = (PROMOTE, ROLLBACK, RETIRE)

# Which RACI task's Accountable fills each sign-off slot, in the order slots are
# added: one sign-off is the model-acceptance Accountable (risk / audit in the default
# RACI), a second one the deployments Accountable (production).
SLOT_TASKS = ["model-acceptance", "deployments"]
SLOT_LABELS = {
    "model-acceptance": "Model acceptance (Accountable)",
    "deployments": "Deployments (Accountable)",
}

# Obligations that must be accepted (or waived) before a version may enter an
# environment: the bias check before anything close to production, the
# preproduction verification before production itself.
BLOCKING_OBLIGATIONS = {
    "qa": [],
    "preprod": ["bias-harm-testing"],
    "prod": ["bias-harm-testing", "preproduction-verification"],
}
OBLIGATION_DONE = ("accepted", "waived")

# Inventory fields a version must carry before it may leave development (and that the
# deployment gate checks again).
REQUIRED_VERSION_FIELDS = {
    "artifact_uri": "artifact URI",
    "artifact_sha256": "artifact SHA-256",
    "framework": "framework",
    "training": "training dataset or training-data reference",
    "authors": "authors",
}


class MoveError(ValueError):
    """A move that the promotion path does not allow."""


def target_for(kind: str, current: str) -> str:
    """The environment a move of ``kind`` from ``current`` leads to, or MoveError."""
    if current == RETIRED:
        raise MoveError("This version is retired; a retired version does not move again.")
    if kind not in KINDS:
        raise MoveError(f"Unknown move {kind!r}; use one of {', '.join(KINDS)}.")
    i = ORDER.index(current)
    if kind == PROMOTE:
        if i == len(ORDER) - 1:
            raise MoveError("This version is already in production; there is no next step.")
        return ORDER[i + 1]
    if kind == ROLLBACK:
        if i == 0:
            raise MoveError("This version is in development; there is nothing to roll back.")
        return ORDER[i - 1]
    return RETIRED


def check_target(kind: str, current: str, requested: str | None) -> str:
    """The move's target; a requested target other than the next step is refused
    (no skipping: dev -> QA -> preprod -> prod)."""
    target = target_for(kind, current)
    if requested and requested != target:
        raise MoveError(
            f"A version in {current} can only {kind} to {target}, not {requested}: "
            "environments are never skipped."
        )
    return target


def signoffs_required(kind: str, current: str, target: str, signoff: dict | None) -> int:
    """How many distinct people must sign, from the human-signoff obligation's
    parameters ({"signoffs_per_move": n, "environments": [...]}).

    A promotion needs n sign-offs when the policy lists its target environment.
    A rollback or a retirement out of an environment that needed sign-offs to enter
    needs one (the deployments Accountable acknowledges the withdrawal), never more:
    withdrawing a model must stay quick.
    """
    if not signoff:
        return 0
    n = int(signoff.get("signoffs_per_move") or 0)
    envs = set(signoff.get("environments") or [])
    if kind == PROMOTE:
        return n if target in envs else 0
    return 1 if (n and current in envs) else 0


def slots_for(kind: str, n: int) -> list[str]:
    """The RACI task whose Accountable fills each of the n slots."""
    if n <= 0:
        return []
    order = SLOT_TASKS if kind == PROMOTE else list(reversed(SLOT_TASKS))
    return [order[i % len(order)] for i in range(n)]


@dataclass(frozen=True)
class BlockingItem:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def blocking_items(
    *,
    kind: str,
    target: str,
    obligations: dict[str, dict[str, Any]],
    raci_problems: list[str],
    open_findings: list[dict[str, Any]],
    missing_fields: list[str],
    eligible_by_slot: dict[str, list[int]],
) -> list[BlockingItem]:
    """What stops a request from being approved, each with a stable code (used to
    waive it) and a sentence for people.

    ``obligations``: consideration code -> {"level", "status"} of the active ones.
    ``open_findings``: [{"id", "title"}] open findings on the version.
    """
    items: list[BlockingItem] = []
    if kind != PROMOTE:
        # A withdrawal is never blocked by missing evidence: taking a model out of
        # service must not wait for the paperwork that put it there.
        return items
    for name in missing_fields:
        items.append(
            BlockingItem(f"missing-field:{name}", f"The version has no {name} in the inventory.")
        )
    for code in BLOCKING_OBLIGATIONS.get(target, []):
        ob = obligations.get(code)
        if ob and ob.get("level") != "none" and ob.get("status") not in OBLIGATION_DONE:
            items.append(
                BlockingItem(
                    f"obligation:{code}",
                    f"The {code.replace('-', ' ')} obligation ({ob.get('level')}) is "
                    f"{str(ob.get('status', 'open')).replace('_', ' ')}, not accepted.",
                )
            )
    for finding in open_findings:
        items.append(
            BlockingItem(
                f"finding:{finding['id']}", f"Open finding #{finding['id']}: {finding['title']}"
            )
        )
    for problem in raci_problems:
        items.append(BlockingItem("raci", f"The RACI matrix is incomplete: {problem}"))
    for task, people in eligible_by_slot.items():
        if not people:
            items.append(
                BlockingItem(
                    f"no-signer:{task}",
                    f"Nobody is Accountable for {task.replace('-', ' ')} in the use case's "
                    "RACI, so nobody can sign that slot.",
                )
            )
    return items


def excluded_signers(
    *, requester_id: int | None, author_ids: list[int], validator_id: int | None
) -> dict[int, str]:
    """Segregation of duties: who may not approve, and why."""
    out: dict[int, str] = {}
    for uid in author_ids:
        out[uid] = "an author of this version"
    if validator_id:
        out[validator_id] = "the validator of this version"
    if requester_id:
        out[requester_id] = "the requester"
    return out


# --- Hash binding ----------------------------------------------------------------------


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def manifest_hash(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(manifest)).hexdigest()


def manifest_differences(signed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why a signature no longer matches: one sentence per thing that changed since
    it was signed (artifact, evidence, obligations, findings, waivers)."""
    reasons: list[str] = []
    for key, label in (("artifact_sha256", "artifact SHA-256"), ("target", "target")):
        if signed.get(key) != current.get(key):
            reasons.append(f"The {label} changed from {signed.get(key)} to {current.get(key)}.")
    for key, label in (
        ("obligations", "obligation"),
        ("evidence", "evidence of"),
        ("findings", "finding"),
        ("waivers", "waiver of"),
    ):
        old = {row["key"]: row for row in signed.get(key, [])}
        new = {row["key"]: row for row in current.get(key, [])}
        for k in sorted(set(old) | set(new)):
            if k not in new:
                reasons.append(f"The {label} {k} is no longer there.")
            elif k not in old:
                reasons.append(f"The {label} {k} was added.")
            elif old[k] != new[k]:
                changed = [
                    f for f in sorted(set(old[k]) | set(new[k])) if old[k].get(f) != new[k].get(f)
                ]
                detail = ", ".join(f"{f}: {old[k].get(f)} -> {new[k].get(f)}" for f in changed)
                reasons.append(f"The {label} {k} changed ({detail}).")
    if not reasons and manifest_hash(signed) != manifest_hash(current):
        reasons.append("What was signed has changed.")
    return reasons


@dataclass
class Tally:
    """The state of the sign-offs of a request."""

    required: int
    slots: list[str]
    filled: dict[str, int] = field(default_factory=dict)  # slot task -> signer id
    rejected_by: int | None = None

    @property
    def complete(self) -> bool:
        return len(self.filled) >= self.required

    @property
    def open_slots(self) -> list[str]:
        return [s for s in self.slots if s not in self.filled]


def tally(
    *, required: int, slots: list[str], approvals: list[tuple[int, str]], rejection: int | None
) -> Tally:
    """Count valid approvals into slots; ``approvals`` = [(signer id, slot task)] of the
    signatures that still match, in signing order. Each slot takes one distinct signer."""
    t = Tally(required=required, slots=slots, rejected_by=rejection)
    seen: set[int] = set()
    for signer, slot in approvals:
        if signer in seen or slot in t.filled or slot not in slots:
            continue
        t.filled[slot] = signer
        seen.add(signer)
    return t
