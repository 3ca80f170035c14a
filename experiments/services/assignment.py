"""Assignment of units to arms while an A/B experiment runs: deterministic, from the
experiment's salt and split (``core.experiment_stats.assign_arm``)."""

from __future__ import annotations

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
    if experiment.is_paired:
        raise ValidationError("A shadow comparison scores every request with both models.")
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError({"key": "Give the entity key (1 to 200 characters)."})
    return st.assign_arm(experiment.salt, key, experiment.protocol["split"])
