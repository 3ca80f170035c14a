"""Pure rules of the sign-off workflow (no Django imports).

Which moves a model version may ask for, which sign-offs a move needs, what blocks it,
who may not sign (segregation of duties), and the manifest a signature is bound to.
The services feed these functions plain data read from the database and write what
they decide.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from core import policy_rules

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

# Which obligations block which move is policy, not code (issue 12): each obligation's
# parameters say which environments it ``blocks`` and what ``evidence`` satisfies it
# (``core.policy_rules.GATE_PARAMS``). An accepted document or a waiver satisfies a
# "document" obligation; a "monitoring-config" one is satisfied by the version's
# monitoring configuration (or a waiver); a "signatures" one by the request's own
# signatures, so it never blocks the request it is satisfied by.
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


def obligation_gates(obligation: dict[str, Any], target: str) -> bool:
    """Whether an obligation (``{"level", "blocks"}``) gates the move into ``target``."""
    return obligation.get("level") not in (None, "none") and target in (
        obligation.get("blocks") or []
    )


def obligation_problem(obligation: dict[str, Any]) -> str | None:
    """Why a gating obligation is not satisfied yet, or None when it is.

    ``obligation``: {"code", "level", "status", "evidence", "missing" (no row for this
    version yet), "check" (for evidence other than a document: None when the check
    passes, else why not)}.
    """
    code = str(obligation.get("code", ""))
    name = code.replace("-", " ")
    if obligation.get("missing"):
        return (
            f"The {name} obligation is not open for this version yet; it is owed before this move."
        )
    status = str(obligation.get("status") or "open")
    if status == "waived":
        return None
    evidence = obligation.get("evidence") or "document"
    if evidence == "signatures":
        return None
    if evidence == "document":
        if status == "accepted":
            return None
        return (
            f"The {name} obligation ({obligation.get('level')}) is "
            f"{status.replace('_', ' ')}, not accepted."
        )
    check = obligation.get("check", f"Nothing can tell whether {evidence} is in place.")
    return None if check is None else f"The {name} obligation is not met: {check}"


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
    obligations: list[dict[str, Any]],
    raci_problems: list[str],
    open_findings: list[dict[str, Any]],
    missing_fields: list[str],
    eligible_by_slot: dict[str, list[int]],
    extra: list[BlockingItem] | tuple[BlockingItem, ...] = (),
) -> list[BlockingItem]:
    """What stops a request from being approved, each with a stable code (used to
    waive it) and a sentence for people.

    ``obligations``: the version's obligations (use-case and version scope), each
    {"code", "level", "status", "blocks", "evidence", "check", "missing"}; those whose
    ``blocks`` name ``target`` and are not satisfied block (``obligation_problem``).
    ``open_findings``: [{"id", "title"}] open findings on the version.
    ``extra``: blocking items decided elsewhere (e.g. a classification awaiting
    confirmation), appended after the obligations.
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
    for ob in obligations:
        if not obligation_gates(ob, target):
            continue
        problem = obligation_problem(ob)
        if problem:
            items.append(BlockingItem(f"obligation:{ob['code']}", problem))
    items.extend(extra)
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


MANIFEST_FORMAT = 3
# What a signature binds of each gating obligation (manifest formats 2 and 3). Legacy
# manifests (no format) bound every obligation of the use case, without versions;
# they are compared on the fields they share, for the obligations that gate now.
# Format 3 adds the validation that gates the move ("validations": id, conclusion,
# its signature's hash) and the risk acceptances of open validation findings
# ("acceptances": per finding, the acceptance and its expiry); a format 2 manifest
# did not bind them, so they are compared only for signatures of format 3 or later.
# Every format binds the findings open at signing ("findings"); a finding opened after
# the signature is not a change to what it bound (``binding_changes(opened_after=)``),
# so the format did not change for it and older signatures are read the same way.
BOUND_FIELDS = (
    "level",
    "status",
    "evidence_sha256",
    "evidence_link",
    "evidence_version",
    "evidence_artifact_sha256",
)
LEGACY_FIELDS = ("status", "evidence_sha256", "evidence_link")


def _obligation_view(manifest: dict[str, Any]) -> tuple[dict[str, dict], tuple[str, ...]]:
    if (manifest.get("format") or 0) >= 2:
        rows = {
            r["key"]: {f: r.get(f) or "" for f in BOUND_FIELDS} for r in manifest["obligations"]
        }
        return rows, BOUND_FIELDS
    evidence = {r["key"]: r for r in manifest.get("evidence", [])}
    rows = {
        r["key"]: {
            "status": r.get("status") or "",
            "evidence_sha256": evidence.get(r["key"], {}).get("sha256") or "",
            "evidence_link": evidence.get(r["key"], {}).get("link") or "",
        }
        for r in manifest.get("obligations", [])
    }
    return rows, LEGACY_FIELDS


def findings_added(signed: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings open now that the signed manifest did not list (its rows of
    ``current["findings"]``): opened after the signature, or open again since."""
    bound = {row["key"] for row in signed.get("findings", [])}
    return [row for row in current.get("findings", []) if row["key"] not in bound]


def binding_changes(
    signed: dict[str, Any],
    current: dict[str, Any],
    *,
    opened_after: Collection[str] = (),
) -> list[dict[str, Any]]:
    """What changed, since a signature, among the things it binds: the artifact, the
    target, the obligations that gate the move (their status and evidence), open
    findings and waivers, and (format 3) the validation and the risk acceptances that
    gate it. Obligations that do not gate the move are not bound: their
    changes never void a signature. Each change is {"what", "key", "message"}.

    ``opened_after``: the keys of findings opened after the signature. A signature
    binds what was known when it was given: a finding that did not exist then is not a
    change to what was signed (the caller reports it on its own, issue 12 item 8),
    whereas a finding that existed then (open, resolved or re-opened since) is."""
    changes: list[dict[str, str]] = []
    for key, label in (("artifact_sha256", "artifact SHA-256"), ("target", "target")):
        if signed.get(key) != current.get(key):
            changes.append(
                {
                    "what": key,
                    "key": key,
                    "message": f"The {label} changed from {signed.get(key)} to {current.get(key)}.",
                }
            )
    old, fields = _obligation_view(signed)
    new, _ = _obligation_view(current)
    legacy = fields is LEGACY_FIELDS
    for k in sorted(set(new) | (set() if legacy else set(old))):
        if k not in new:
            message = f"The {k} obligation no longer gates this move."
        elif k not in old:
            message = f"The {k} obligation was added to what gates this move."
        else:
            changed = [f for f in fields if old[k].get(f, "") != new[k].get(f, "")]
            if not changed:
                continue
            detail = ", ".join(
                f"{f.replace('_', ' ')}: {old[k].get(f) or '-'} -> {new[k].get(f) or '-'}"
                for f in changed
            )
            message = f"The {k} obligation changed ({detail})."
        changes.append({"what": "obligation", "key": k, "message": message})
    changes += _findings_and_waivers_changes(signed, current, frozenset(opened_after))
    if (signed.get("format") or 0) >= 3:
        changes += _validation_changes(signed, current)
    return changes


def _findings_and_waivers_changes(
    signed: dict[str, Any], current: dict[str, Any], opened_after: frozenset[str]
) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for key, label in (("findings", "finding"), ("waivers", "waiver of")):
        before = {row["key"]: row for row in signed.get(key, [])}
        after = {row["key"]: row for row in current.get(key, [])}
        for k in sorted(set(before) | set(after)):
            if k not in after:
                message = f"The {label} {k} is no longer there."
            elif k not in before and key == "findings" and k in opened_after:
                continue  # opened after the signature: not something it bound
            elif k not in before:
                message = f"The {label} {k} was added."
            elif before[k] != after[k]:
                message = f"The {label} {k} changed."
            else:
                continue
            changes.append({"what": key[:-1], "key": k, "message": message})
    return changes


def _validation_changes(signed: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes of the validation that gates the move and of the risk acceptances of
    open validation findings (manifest format 3). An acceptance that stops counting
    because its finding is no longer open is said by the finding's own change."""
    changes: list[dict[str, Any]] = []
    before = {r["key"]: r for r in signed.get("validations", [])}
    after = {r["key"]: r for r in current.get("validations", [])}
    for k in sorted(set(before) | set(after)):
        if k in before and k in after and before[k] == after[k]:
            continue
        if k not in after:
            message = (
                f"The validation {k} ({before[k].get('conclusion')}) that the signature bound "
                "no longer counts for this move."
            )
        elif k not in before:
            message = f"The validation {k} ({after[k].get('conclusion')}) now counts for this move."
        else:
            message = f"The validation {k} changed."
        changes.append({"what": "validation", "key": k, "message": message})
    before = {r["key"]: r for r in signed.get("acceptances", [])}
    after = {r["key"]: r for r in current.get("acceptances", [])}
    still_open = {r["key"] for r in current.get("findings", [])}
    for k in sorted(set(before) | set(after)):
        old, new = before.get(k), after.get(k)
        if old == new or (new is None and k not in still_open):
            continue
        if new is None:
            message = (
                f"The risk acceptance of finding {k} expired (it ran until "
                f"{old.get('expires_on')}): the finding is open and not accepted."
            )
        elif old is None:
            message = f"The risk of finding {k} was accepted until {new.get('expires_on')}."
        else:
            message = (
                f"The risk acceptance of finding {k} changed (until {old.get('expires_on')} "
                f"-> until {new.get('expires_on')})."
            )
        changes.append(
            {
                "what": "acceptance",
                "key": k,
                "message": message,
                "acceptance": (new or old).get("acceptance"),
                "before": old.get("acceptance") if old else None,
            }
        )
    return changes


def manifest_differences(signed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Why a signature no longer matches: one sentence per bound thing that changed."""
    return [c["message"] for c in binding_changes(signed, current)]


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


policy_rules.register_consumer(
    "core.promotion_rules.signoffs_required", "human-signoff", "signoffs_per_move", "environments"
)
policy_rules.register_consumer("core.promotion_rules.blocking_items", None, "blocks", "evidence")
