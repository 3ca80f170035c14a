"""Deterministic arm assignment: a SHA-256 point in [0, 1) per (experiment salt,
entity key), compared with the champion's share of the split."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from core.experiment_stats.protocol import validate_split


def assignment_point(experiment_salt: str, entity_key: str) -> float:
    """SHA-256 of ``salt + "\\x1f" + key`` (the unit separator keeps ("ab", "c") and
    ("a", "bc") apart), its first 8 bytes read as an integer / 2**64, in [0, 1)."""
    digest = hashlib.sha256(f"{experiment_salt}\x1f{entity_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_arm(experiment_salt: str, entity_key: str, split: Mapping[str, float]) -> str:
    """The arm of an entity: champion when its point is below the champion's share."""
    shares = validate_split(split)
    point = assignment_point(str(experiment_salt), str(entity_key))
    return "champion" if point < shares["champion"] / 100.0 else "challenger"
