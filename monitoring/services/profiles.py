"""The reference profile of a monitoring configuration: the reference dataset's drift
profile for the configured columns (``core.drift``), and its own performance when it has
outcomes; built once per dataset and options (a fingerprint) and reused by every window.

Saving a configuration only asks for it (``reference_profile_request``: a queued row and
a job on the heavy queue); a worker builds it (``reference_profile_build``) in one pass
over the file, ``MONITORING_PROFILE_BATCH_ROWS`` rows at a time (250,000: larger
batches left the worker's memory higher, allocators keeping what they freed), merging
each batch's profile into the running one and
summing the performance counts as it goes, so that its memory is bounded by a batch and
the merged profile (at most ``core.drift.MAX_DISTINCT`` values a column), not by the
file; only the ROC AUC keeps the scores and outcomes of the rows with an outcome (9 bytes
a row, ``core.drift.PerformanceAccumulator``). When it is ready the worker sets the
performance floors of the configurations that use it and queues their windows.

The profile is stored as a summary on the row and one ``ReferenceProfileFeature`` per
column (arrays in NumPy's format), so a page reads the summary and at most one column's
bin edges, never the whole profile."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import drift
from core import monitoring_config as rules
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from monitoring.models import (
    MonitoringBatch,
    MonitoringConfig,
    ReferenceProfile,
    ReferenceProfileFeature,
)
from monitoring.services.files import Unreadable, inspect, read_columns, to_numpy
from monitoring.services.policy import DEFAULT_PERFORMANCE_MAX_DROP
from notifications.jobs import enqueue

Status = ReferenceProfile.Status


def _setting(name: str, default):
    return getattr(settings, name, default)


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


def reference_profile_of(config: MonitoringConfig) -> ReferenceProfile | None:
    """The profile row of the configuration's reference and columns (None: never asked)."""
    fingerprint = profile_fingerprint(_profile_options(config))
    return ReferenceProfile.objects.filter(
        dataset_id=config.reference_id, fingerprint=fingerprint
    ).first()


def reference_profile_request(*, config: MonitoringConfig) -> ReferenceProfile:
    """The configuration's reference profile: the row found when it was asked for before
    (same dataset and options), otherwise a new queued row; a profile that is not built
    (new, or failed before: asked again means try again) is queued for a worker.

    Call it in the transaction of the write that wants it: the job is published after
    commit (``notifications.jobs.enqueue``)."""
    from monitoring.tasks import reference_profile_build as build_task

    options = _profile_options(config)
    fingerprint = profile_fingerprint(options)
    now = timezone.now()
    try:
        with transaction.atomic():
            profile, created = ReferenceProfile.objects.get_or_create(
                dataset_id=config.reference_id,
                fingerprint=fingerprint,
                defaults={"options": options, "requested_at": now},
            )
    except IntegrityError:  # asked for concurrently
        profile = ReferenceProfile.objects.get(
            dataset_id=config.reference_id, fingerprint=fingerprint
        )
    if profile.status == Status.FAILED:
        ReferenceProfile.objects.filter(pk=profile.pk, status=Status.FAILED).update(
            status=Status.QUEUED, error="", requested_at=now, started_at=None
        )
        profile.refresh_from_db()
    if profile.status == Status.QUEUED:
        enqueue(build_task, kwargs={"profile_id": profile.pk})
    return profile


def reference_profile_build(*, profile_id: int) -> dict[str, Any]:
    """Build a queued profile (the worker's side): one pass over the reference, stored
    column by column; then the floors of the configurations that use it are set and
    their windows queued. A reference that cannot be read marks the profile failed with
    the reason (shown on the monitoring page). Idempotent: a ready profile is left as it
    is. Returns what it did."""
    claimed = (
        ReferenceProfile.objects.filter(pk=profile_id)
        .exclude(status=Status.READY)
        .update(status=Status.BUILDING, started_at=timezone.now(), error="")
    )
    if not claimed:
        return {"profile": profile_id, "status": "ready or gone"}
    profile = ReferenceProfile.objects.select_related("dataset").get(pk=profile_id)
    try:
        merged, performance = _build_profile(profile.dataset, profile.options)
    except (Unreadable, ValueError, OSError) as exc:
        return _failed(profile, f"The reference dataset cannot be profiled: {exc}")
    except SoftTimeLimitExceeded:
        return _failed(profile, "Profiling the reference took longer than the time allowed.")
    with transaction.atomic():
        _store(profile, merged, performance)
        queued = _after_ready(profile)
    return {"profile": profile_id, "status": Status.READY, "rows": profile.rows, "queued": queued}


def reference_profile_given_up(kwargs: dict, runs: int, error: str) -> None:
    """The outbox gave the build up (its runs kept dying): mark the profile failed."""
    ReferenceProfile.objects.filter(pk=kwargs.get("profile_id")).exclude(
        status=Status.READY
    ).update(
        status=Status.FAILED,
        error=f"The reference profile could not be built after {runs} attempts ({error}).",
    )


def _failed(profile: ReferenceProfile, error: str) -> dict[str, Any]:
    ReferenceProfile.objects.filter(pk=profile.pk).update(
        status=Status.FAILED, error=error, built_at=timezone.now()
    )
    return {"profile": profile.pk, "status": Status.FAILED, "error": error}


def _store(profile: ReferenceProfile, merged: drift.Profile, performance) -> None:
    """The summary on the row, one part per column (each column's arrays dropped from
    the merged profile once stored, so that they are not held twice)."""
    profile.parts.all().delete()
    summary = {
        "schema_version": drift.SCHEMA_VERSION,
        "rows": merged.rows,
        "bins": merged.bins,
        "problems": dict(merged.problems),
        "features": {},
    }
    for position, name in enumerate(list(merged.features)):
        f = merged.features.pop(name)
        summary["features"][name] = {"kind": f.kind, "n": f.n, "missing": f.missing}
        part = ReferenceProfileFeature(
            profile=profile, position=position, name=name, kind=f.kind, missing=f.missing
        )
        part.counts = drift.array_bytes(f.counts)
        if isinstance(f, drift.NumericProfile):
            part.values = drift.array_bytes(f.values)
            part.bins, part.approximate = f.bins, f.approximate
            part.edges, part.proportions = f.edges.tolist(), f.proportions.tolist()
            summary["features"][name].update(distinct=len(f.values), approximate=f.approximate)
        else:
            part.categories = list(f.categories)
            summary["features"][name]["distinct"] = len(f.categories)
        part.save()
    profile.status, profile.error = Status.READY, ""
    profile.summary, profile.performance, profile.rows = summary, performance, merged.rows
    profile.built_at = timezone.now()
    profile.save(update_fields=["status", "error", "summary", "performance", "rows", "built_at"])


def reference_profile_load(profile: ReferenceProfile) -> drift.Profile:
    """The stored profile as ``core.drift.Profile`` (every column, for comparing windows).
    Raises ValueError when the profile is not ready."""
    if profile.status != Status.READY or profile.summary is None:
        raise ValueError(f"reference profile #{profile.pk} is {profile.status}")
    features: dict[str, drift.FeatureProfile] = {}
    for part in profile.parts.order_by("position"):
        counts = drift.array_from_bytes(part.counts)
        if part.kind == ReferenceProfileFeature.Kind.NUMERIC:
            features[part.name] = drift.NumericProfile(
                values=drift.array_from_bytes(part.values),
                counts=counts,
                missing=part.missing,
                bins=part.bins,
                edges=part.edges,
                proportions=part.proportions,
                approximate=part.approximate,
            )
        else:
            features[part.name] = drift.CategoricalProfile(part.categories, counts)
    summary = profile.summary
    return drift.Profile(
        features, int(summary["rows"]), int(summary["bins"]), dict(summary.get("problems", {}))
    )


def performance_floors_set(config: MonitoringConfig, profile: ReferenceProfile | None) -> None:
    """Floors = the reference's own metric minus the allowed drop (none without outcomes,
    none while the profile is not ready)."""
    overall = (profile.performance or {}).get("overall") if profile and profile.is_ready else None
    drop = float(config.thresholds.get("performance_max_drop", DEFAULT_PERFORMANCE_MAX_DROP))
    floors = rules.performance_floors(overall, drop)
    config.thresholds = {**config.thresholds, "performance_min": floors}
    MonitoringConfig.objects.filter(pk=config.pk).update(thresholds=config.thresholds)


def _after_ready(profile: ReferenceProfile) -> int:
    """Floors for every configuration whose reference profile this is, and their windows
    queued when they have production data. Returns how many were queued."""
    from monitoring.tasks import monitoring_compute as compute_task

    queued = 0
    configs = MonitoringConfig.objects.select_related("reference").filter(
        reference_id=profile.dataset_id
    )
    for config in configs:
        if profile_fingerprint(_profile_options(config)) != profile.fingerprint:
            continue
        performance_floors_set(config, profile)
        if config.batches.filter(kind=MonitoringBatch.Kind.PRODUCTION).exists():
            enqueue(compute_task, kwargs={"config_id": config.pk})
            queued += 1
    return queued


def _build_profile(dataset: ScoredDataset, options: Mapping[str, Any]):
    """(merged profile, performance or None) of the reference, in one pass: each batch's
    profile merged into the running one (``drift.profile_merge``, equal to merging all
    batches at the end), performance counted as batches arrive."""
    numeric, categorical = options["numeric"], options["categorical"]
    outcome, prediction, score = options["outcome"], options["prediction"], options["score"]
    needed = [*numeric, *categorical, outcome, prediction, score]
    needed = [c for c in dict.fromkeys(needed) if c]
    merged: drift.Profile | None = None
    perf: drift.PerformanceAccumulator | None = None
    perf_error = ""
    with scored_dataset_local_path(dataset) as path:
        info = inspect(dataset, path)
        missing = [c for c in needed if c not in info.columns]
        if missing:
            raise Unreadable(f"the reference has no column {', '.join(map(repr, missing))}")
        if outcome and prediction:
            perf = drift.PerformanceAccumulator(with_score=bool(score), capacity=info.rows or 0)
        rows = int(_setting("MONITORING_PROFILE_BATCH_ROWS", 250_000))
        for rb in read_columns(path, info, needed, text=categorical, rows=rows):
            cols = {
                c: to_numpy(rb.column(c), "numeric" if c in numeric else "categorical")
                for c in [*numeric, *categorical]
            }
            part = drift.profile_build(
                cols, numeric=numeric, categorical=categorical, bins=options["bins"]
            )
            del cols
            merged = part if merged is None else drift.profile_merge([merged, part])
            if perf is not None and not perf_error:
                try:
                    perf.add(
                        to_numpy(rb.column(outcome), "numeric"),
                        to_numpy(rb.column(prediction), "numeric"),
                        to_numpy(rb.column(score), "numeric") if score else None,
                    )
                except ValueError as exc:
                    perf_error = str(exc)
    if merged is None:
        raise Unreadable("the reference has no rows")
    performance = None
    if perf is not None:
        performance = {"error": perf_error} if perf_error else perf.result()
    return merged, performance
