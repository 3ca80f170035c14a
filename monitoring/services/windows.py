"""Computing a configuration's windows: every production batch read once and its rows
added to the windows they fall in (daily or weekly), each complete window compared with
the reference profile (input and prediction drift) and, where outcomes arrived, scored
(performance); then alerts opened or updated.

Bad data never stops a run: a batch that cannot be read, timestamps without a zone or in
the future, a window with no rows, a missing or unusable column each become a recorded
result with a readable message; one failed window does not stop the others. Recomputing
is idempotent (windows are unique per config, start and cadence).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from django.contrib.auth.models import User
from django.utils import timezone

from audit.services import audit_record
from core import drift
from core.monitoring_batches import batch_columns
from fairness.selectors import scored_dataset_local_path
from monitoring.models import Cadence, MonitoringBatch, MonitoringConfig, MonitoringWindow
from monitoring.services.alerts import _alerts_update
from monitoring.services.files import (
    Unreadable,
    batches_published,
    cast_timestamps,
    ids,
    inspect,
    read_columns,
    to_numpy,
)
from monitoring.services.policy import monitoring_policy
from monitoring.services.profiles import (
    reference_profile_load,
    reference_profile_of,
    reference_profile_request,
)

# the logger's name from before monitoring.services became a package
logger = logging.getLogger("monitoring.services")


@dataclass
class _WindowParts:
    profiles: list[drift.Profile] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)
    yhat: list[np.ndarray] = field(default_factory=list)
    score: list[np.ndarray] = field(default_factory=list)
    groups: dict[str, list[np.ndarray]] = field(default_factory=dict)
    rows: int = 0
    errors: list[str] = field(default_factory=list)


def _outcome_lookup(config: MonitoringConfig) -> tuple[np.ndarray, np.ndarray]:
    """(sorted prediction ids, outcome) from every outcome file; a later file wins."""
    found, ys = [], []
    for batch in batches_published(config=config, kind=MonitoringBatch.Kind.OUTCOMES):
        try:
            with scored_dataset_local_path(batch.dataset) as path:
                info = inspect(batch.dataset, path)
                cols = [config.id_column, config.outcome_column]
                for rb in read_columns(path, info, cols, text=[config.id_column]):
                    found.append(ids(rb.column(config.id_column)).astype(str))
                    ys.append(to_numpy(rb.column(config.outcome_column), "numeric"))
        except (Unreadable, KeyError, OSError):
            logger.warning("outcome batch %s unreadable", batch.pk)
    if not found:
        return np.empty(0, dtype=str), np.empty(0)
    all_ids, all_y = np.concatenate(found), np.concatenate(ys)
    rev_ids = all_ids[::-1]
    uniq, first = np.unique(rev_ids, return_index=True)  # first in reverse = last received
    return uniq, all_y[::-1][first]


def _join(keys_of: np.ndarray, lookup: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    keys, values = lookup
    out = np.full(len(keys_of), np.nan)
    if not len(keys) or not len(keys_of):
        return out
    pos = np.searchsorted(keys, keys_of)
    pos = np.clip(pos, 0, len(keys) - 1)
    hit = keys[pos] == keys_of
    out[hit] = values[pos[hit]]
    return out


def _read_batch(config, batch, options, cadence, now, windows: dict) -> list[str]:
    """Add one production batch's rows to the windows they fall in. Returns problems."""
    ts_col = config.timestamp_column
    needed, text = batch_columns(
        timestamp=ts_col,
        numeric=options["numeric"],
        categorical=options["categorical"],
        prediction=config.prediction_column,
        score=config.score_column,
        id_column=config.id_column,
        sensitive=config.sensitive_columns,
    )
    problems: list[str] = []
    with scored_dataset_local_path(batch.dataset) as path:
        info = inspect(batch.dataset, path)
        if ts_col not in info.columns:
            raise Unreadable(f"The batch has no timestamp column {ts_col!r}.")
        for rb in read_columns(path, info, needed, text=text):
            split = drift.window_split(cast_timestamps(rb.column(ts_col)), cadence, now=now)
            for err in split.errors:
                if err not in problems:
                    problems.append(err)
            _add_to_windows(config, rb, split.windows, options, windows)
    return problems


def _add_to_windows(config, rb: pa.RecordBatch, split_windows, options, windows: dict) -> None:
    """Add one record batch's rows to the parts of the windows they fall in (a profile of
    the features present, and what the performance needs)."""
    numeric, categorical = options["numeric"], options["categorical"]
    present = set(rb.schema.names)
    cols = {
        c: to_numpy(rb.column(c), "numeric" if c in numeric else "categorical")
        for c in [*numeric, *categorical]
        if c in present
    }
    for w in split_windows:
        if not w.rows.size:
            continue
        key = w.start.astype("datetime64[s]").astype(object)
        parts = windows.setdefault(key, _WindowParts())
        subset = {c: v[w.rows] for c, v in cols.items()}
        parts.profiles.append(
            drift.profile_build(
                subset,
                numeric=[c for c in numeric if c in cols],
                categorical=[c for c in categorical if c in cols],
                bins=options["bins"],
            )
        )
        parts.rows += int(w.rows.size)
        if config.prediction_column and config.prediction_column in present:
            _add_predictions(config, rb, present, w.rows, parts)


def _add_predictions(config, rb: pa.RecordBatch, present: set[str], rows, parts) -> None:
    """The predictions of a window's rows, with their ids, scores and sensitive groups
    when the batch has them."""
    parts.yhat.append(to_numpy(rb.column(config.prediction_column), "numeric")[rows])
    if config.id_column and config.id_column in present:
        parts.ids.append(ids(rb.column(config.id_column)).astype(str)[rows])
    if config.score_column and config.score_column in present:
        parts.score.append(to_numpy(rb.column(config.score_column), "numeric")[rows])
    for s in config.sensitive_columns:
        if s in present:
            vals = to_numpy(rb.column(s), "categorical")[rows]
            parts.groups.setdefault(s, []).append(vals)


def _window_result(config, reference, parts: _WindowParts | None, lookup, thresholds, extra):
    """(status, message, results) of one window. Never raises for bad data."""
    if parts is None or parts.rows == 0:
        empty = drift.drift_compare(
            reference, {}, thresholds=thresholds, prediction=config.drift_prediction_column
        )
        results = {"drift": empty, "performance": None, "rows": 0}
        return MonitoringWindow.Status.EMPTY, "The window has no rows.", results
    window = drift.profile_merge(parts.profiles) if len(parts.profiles) > 1 else parts.profiles[0]
    result = drift.drift_compare(
        reference, window, thresholds=thresholds, prediction=config.drift_prediction_column
    )
    for name in extra:
        result["features"][name] = drift._result(
            name,
            None,
            drift.NOT_IN_REFERENCE,
            "In the production data but not in the reference; not compared.",
        )
    perf = _window_performance(config, parts, lookup)
    status = MonitoringWindow.Status.OK
    notes = []
    if result["problems"]:
        notes.append(f"{len(result['problems'])} column(s) not compared")
    if result["drifted"]:
        notes.append(f"drift in {', '.join(result['drifted'])}")
    if result.get("prediction_drift"):
        notes.append("prediction drift")
    results = {"drift": result, "performance": perf, "rows": parts.rows}
    return status, ("; ".join(notes) or "No drift.").capitalize(), results


def _window_performance(config, parts: _WindowParts, lookup) -> dict | None:
    if not parts.yhat:
        return None
    if not parts.ids or not len(lookup[0]):
        return {
            "rows": parts.rows,
            "rows_with_outcome": 0,
            "overall": None,
            "groups": {},
            "message": "No outcomes have arrived for this window.",
        }
    y = _join(np.concatenate(parts.ids), lookup)
    yhat = np.concatenate(parts.yhat)
    score = np.concatenate(parts.score) if parts.score else None
    groups = {k: np.concatenate(v) for k, v in parts.groups.items()}
    try:
        return drift.performance(y, yhat, score=score, groups=groups)
    except ValueError as exc:
        return {
            "rows": parts.rows,
            "rows_with_outcome": 0,
            "overall": None,
            "groups": {},
            "message": f"Performance cannot be computed: {exc}",
        }


def _window_starts(found: Sequence[dt.datetime], cadence: str, now: dt.datetime):
    """Every window start from the first with rows to the last complete one."""
    if not found:
        return []
    step = _step(cadence)
    out, start = [], min(found)
    while start + step <= now:
        out.append(start)
        start += step
    return out


def _step(cadence: str) -> dt.timedelta:
    return dt.timedelta(days=1 if cadence == Cadence.DAILY else 7)


def monitoring_compute(
    *,
    config_id: int,
    now: dt.datetime | None = None,
    by: User | None = None,
    queue_emails: bool = True,
) -> dict[str, Any]:
    """Compute (or recompute) every complete window of a configuration: per-feature drift
    against the reference profile, prediction drift, performance where outcomes arrived;
    then open or update alerts. Idempotent: the same data gives the same rows, alerts
    count each window once. Returns a summary (also stored as ``config.last_run``).
    """
    now = now or timezone.now()
    config = MonitoringConfig.objects.select_related(
        "model_version__model__use_case", "reference"
    ).get(pk=config_id)
    _cadence_sync(config, by)
    cadence = config.cadence
    run: dict[str, Any] = {"at": now.isoformat(), "cadence": cadence, "batch_problems": []}
    profile_row = reference_profile_of(config)
    if profile_row is None or not profile_row.is_ready:
        if profile_row is None or not profile_row.is_pending:  # never asked, or failed
            profile_row = reference_profile_request(config=config)  # (asked again: retried)
        error = "Waiting for the reference profile: the windows are computed when it is built."
        run.update(windows=0, failed=0, error=error, waiting=True)
        _save_run(config, run, now)
        return run
    reference = reference_profile_load(profile_row)
    thresholds = drift.DriftThresholds.from_policy(config.thresholds)
    windows, extra = _read_batches(config, reference, profile_row.options, now, run)
    if config.id_column and config.outcome_column:
        lookup = _outcome_lookup(config)
    else:
        lookup = (np.empty(0, dtype=str), np.empty(0))
    starts = _window_starts([k.replace(tzinfo=dt.UTC) for k in windows], cadence, now)
    computed, failed = [], 0
    for start in starts:
        parts = windows.get(start.replace(tzinfo=None))
        window, ok = _window_save(
            config, reference, parts, lookup, thresholds, sorted(extra), start, now
        )
        computed.append(window)
        failed += 0 if ok else 1
    opened = _alerts_update(config, computed, now, queue_emails=queue_emails)
    run.update(windows=len(computed), failed=failed, alerts_opened=opened)
    _save_run(config, run, now)
    return run


def _cadence_sync(config: MonitoringConfig, by: User | None) -> None:
    """Take the cadence the policy asks for today (the obligations may have changed since
    the configuration was saved), recording the change."""
    policy = monitoring_policy(config.model_version)
    if config.cadence != policy["cadence"] or config.cadence_source != policy["cadence_source"]:
        audit_record(
            action="monitoring.cadence_changed",
            obj=config,
            actor=by,
            reason=policy["cadence_source"],
            changes={"cadence": [config.cadence, policy["cadence"]]},
            parent=config.model_version,
        )
        config.cadence, config.cadence_source = policy["cadence"], policy["cadence_source"]
        MonitoringConfig.objects.filter(pk=config.pk).update(
            cadence=config.cadence, cadence_source=config.cadence_source
        )


def _read_batches(
    config: MonitoringConfig, reference: drift.Profile, options, now, run: dict
) -> tuple[dict[dt.datetime, _WindowParts], set[str]]:
    """Every production batch's rows in their windows, and the columns that are in the
    data but neither in the reference nor a role; each batch's problems go to ``run``
    (an unreadable batch is left out, the others go on)."""
    windows: dict[dt.datetime, _WindowParts] = {}
    extra: set[str] = set()
    roles = {
        config.timestamp_column,
        config.id_column,
        config.prediction_column,
        config.score_column,
        config.outcome_column,
        *config.sensitive_columns,
    }
    for batch in batches_published(config=config, kind=MonitoringBatch.Kind.PRODUCTION):
        try:
            problems = _read_batch(config, batch, options, config.cadence, now, windows)
            extra |= {c for c in batch.dataset.columns if c not in reference.features} - roles
        except (Unreadable, drift.DriftInputError, OSError) as exc:
            problems = [f"Batch #{batch.pk} ({batch.dataset.original_name}) left out: {exc}"]
        for p in problems:
            run["batch_problems"].append({"batch": batch.pk, "problem": p})
    return windows, extra


def _window_save(
    config, reference, parts, lookup, thresholds, extra, start: dt.datetime, now
) -> tuple[MonitoringWindow, bool]:
    """Compute one window and save its row (created or updated: one per config, start and
    cadence). A window that fails is saved as failed with the reason; returns (window,
    whether it was computed without failing)."""
    ok = True
    try:
        status, message, results = _window_result(
            config, reference, parts, lookup, thresholds, extra
        )
    except Exception as exc:  # one window never stops the others
        logger.exception("monitoring window %s of config %s failed", start, config.pk)
        status, message, results = (
            MonitoringWindow.Status.FAILED,
            f"The window could not be computed ({type(exc).__name__}: {exc}).",
            {"rows": parts.rows if parts else 0},
        )
        ok = False
    perf = results.get("performance") or {}
    d = results.get("drift") or {}
    window, _ = MonitoringWindow.objects.update_or_create(
        config=config,
        start=start,
        cadence=config.cadence,
        defaults={
            "end": start + _step(config.cadence),
            "status": status,
            "message": message[:2000],
            "rows": results.get("rows", 0),
            "rows_with_outcome": perf.get("rows_with_outcome", 0) or 0,
            "drifted": list(d.get("drifted", [])),
            "results": results,
            "computed_at": now,
        },
    )
    return window, ok


def _save_run(config: MonitoringConfig, run: dict, now) -> None:
    MonitoringConfig.objects.filter(pk=config.pk).update(last_run=run, last_computed_at=now)
