"""The reference profile of a monitoring configuration: the reference dataset's drift
profile for the configured columns (``core.drift``), and its own performance when it has
outcomes; built once per dataset and options (a fingerprint) and reused by every window."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import drift
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from monitoring.models import MonitoringConfig, ReferenceProfile
from monitoring.services.files import Unreadable, inspect, read_columns, to_numpy


def _profile_options(config: MonitoringConfig) -> dict[str, Any]:
    numeric = list(config.numeric_features)
    categorical = list(config.categorical_features)
    if config.score_column:
        numeric.append(config.score_column)
    elif config.prediction_column:
        categorical.append(config.prediction_column)
    return {
        "sha256": config.reference.sha256,
        "numeric": numeric,
        "categorical": categorical,
        "bins": drift.DEFAULT_BINS,
        "prediction": config.prediction_column,
        "score": config.score_column,
        "outcome": config.outcome_column,
        "schema_version": drift.SCHEMA_VERSION,
    }


def profile_fingerprint(options: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


def reference_profile_build(*, config: MonitoringConfig) -> ReferenceProfile:
    """The reference profile for the configuration's columns: found when it was built
    before (same dataset and options), otherwise built now, batch by batch, and stored.
    A reference that cannot be read gives a profile row with ``error`` set."""
    options = _profile_options(config)
    fingerprint = profile_fingerprint(options)
    existing = ReferenceProfile.objects.filter(
        dataset=config.reference, fingerprint=fingerprint
    ).first()
    if existing is not None and not existing.error:
        return existing
    profile, performance, rows, error = None, None, 0, ""
    try:
        profile, performance, rows = _build_profile(config.reference, options)
    except (Unreadable, ValueError) as exc:
        error = f"The reference dataset cannot be profiled: {exc}"
    values = {
        "options": options,
        "profile": profile,
        "performance": performance,
        "rows": rows,
        "error": error,
        "built_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            built, _ = ReferenceProfile.objects.update_or_create(
                dataset=config.reference, fingerprint=fingerprint, defaults=values
            )
    except IntegrityError:  # built concurrently
        built = ReferenceProfile.objects.get(dataset=config.reference, fingerprint=fingerprint)
    return built


def _build_profile(dataset: ScoredDataset, options: Mapping[str, Any]):
    numeric, categorical = options["numeric"], options["categorical"]
    outcome, prediction, score = options["outcome"], options["prediction"], options["score"]
    needed = [*numeric, *categorical, outcome, prediction, score]
    needed = [c for c in dict.fromkeys(needed) if c]
    parts: list[drift.Profile] = []
    ys, yhats, scores = [], [], []
    with scored_dataset_local_path(dataset) as path:
        info = inspect(dataset, path)
        missing = [c for c in needed if c not in info.columns]
        if missing:
            raise Unreadable(f"the reference has no column {', '.join(map(repr, missing))}")
        for rb in read_columns(path, info, needed, text=categorical):
            cols = {
                c: to_numpy(rb.column(c), "numeric" if c in numeric else "categorical")
                for c in [*numeric, *categorical]
            }
            parts.append(
                drift.profile_build(
                    cols, numeric=numeric, categorical=categorical, bins=options["bins"]
                )
            )
            if outcome and prediction:
                ys.append(to_numpy(rb.column(outcome), "numeric"))
                yhats.append(to_numpy(rb.column(prediction), "numeric"))
                if score:
                    scores.append(to_numpy(rb.column(score), "numeric"))
    if not parts:
        raise Unreadable("the reference has no rows")
    merged = drift.profile_merge(parts) if len(parts) > 1 else parts[0]
    performance = None
    if ys:
        try:
            performance = drift.performance(
                np.concatenate(ys),
                np.concatenate(yhats),
                score=np.concatenate(scores) if scores else None,
            )
        except ValueError as exc:
            performance = {"error": str(exc)}
    return merged.to_dict(), performance, merged.rows
