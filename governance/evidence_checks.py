"""Checks that tell whether an obligation whose evidence is not a document is met
(issue 12). Apps above governance register them in their ``ready()``: the monitoring
app tells whether a version's monitoring is configured, without governance or reviews
importing it. An evidence kind that nothing registered never passes (fail closed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# evidence kind -> check(version) returning None when met, else why not (a sentence).
_checks: dict[str, Callable[[Any], str | None]] = {}


def register_evidence_check(kind: str, check: Callable[[Any], str | None]) -> None:
    """Register the check of an evidence kind (one per kind; the last one wins)."""
    _checks[kind] = check


def evidence_check(kind: str, version: Any) -> str | None:
    """None when the evidence of ``kind`` is in place for ``version``, else why not."""
    check = _checks.get(kind)
    if check is None:
        return f"nothing in the product can tell whether its {kind} is in place."
    if version is None:
        return f"it needs a version to check its {kind}."
    return check(version)
