"""Assignment of units to arms while an A/B experiment runs: deterministic, from the
experiment's salt and split (``core.experiment_stats.assign_arm``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from core import experiment_stats as st
from experiments.models import Experiment


def experiment_assign(*, experiment: Experiment, key: str) -> str:
    """The arm of an entity key: deterministic (``assign_arm``), only while running."""
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError(
            f"Assignments are given while the experiment runs; it is "
            f"{experiment.get_status_display().lower()}."
        )
    _assignable(experiment)
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError({"key": "Give the entity key (1 to 200 characters)."})
    return st.assign_arm(experiment.salt, key, experiment.protocol["split"])


MAX_BULK_KEYS = 10_000


def _assignable(experiment: Experiment) -> None:
    if experiment.is_paired:
        raise ValidationError("A shadow comparison scores every request with both models.")
    if experiment.assignment == Experiment.Assignment.EXTERNAL:
        raise ValidationError(
            "An outside randomiser assigns this experiment's units; the product does not."
        )


def experiment_assign_many(*, experiment: Experiment, keys: Any) -> list[dict[str, str]]:
    """The arms of up to ``MAX_BULK_KEYS`` entity keys in one call (issue 14: a
    pipeline no longer asks once per unit), in the order given. Validated whole first:
    a list of 1 to 200-character keys; ValidationError naming the first bad ones."""
    if experiment.status != Experiment.Status.RUNNING:
        raise ValidationError(
            f"Assignments are given while the experiment runs; it is "
            f"{experiment.get_status_display().lower()}."
        )
    _assignable(experiment)
    if not isinstance(keys, list) or not keys:
        raise ValidationError({"keys": "Give a list of entity keys."})
    if len(keys) > MAX_BULK_KEYS:
        raise ValidationError({"keys": f"At most {MAX_BULK_KEYS:,} keys per call."})
    bad = [
        i
        for i, k in enumerate(keys)
        if not isinstance(k, str) or not k.strip() or len(k.strip()) > 200
    ]
    if bad:
        shown = ", ".join(str(i) for i in bad[:10])
        raise ValidationError(
            {"keys": f"Keys at positions {shown} are not 1 to 200-character strings."}
        )
    split = experiment.protocol["split"]
    return [
        {"key": k.strip(), "arm": st.assign_arm(experiment.salt, k.strip(), split)} for k in keys
    ]


def assignment_recipe(experiment: Experiment) -> dict[str, Any]:
    """How a pipeline computes an arm itself (issue 14), shown after the lock: the salt,
    the split and the recipe ``core.experiment_stats.assign_arm`` follows."""
    split = experiment.protocol.get("split") or {}
    return {
        "salt": experiment.salt,
        "split": split,
        "recipe": "point = int.from_bytes(sha256((salt + '\\x1f' + key).encode('utf-8'))"
        ".digest()[:8], 'big') / 2**64; arm = 'champion' if point < "
        f"{float(split.get('champion', 0)) / 100:g} else 'challenger'",
    }
