"""Production monitoring (issue #6): configure a version's monitoring, receive production
batches and outcomes, build the reference profile once, compute drift and performance
per time window, open alerts (one per feature and kind while open) with a finding and
one e-mail to the monitoring Accountable, and acknowledge or resolve them.

Scored data is stored and validated the one way issue #5 built: every file is a
``ScoredDataset`` (content-addressed in Django storage, SHA-256, size, format), checked
by ``core.scored_io.inspect_file``; ``MonitoringBatch`` says what a file is for.

Bad data never stops a run: a batch that cannot be read, timestamps without a zone or
in the future, a window with no rows, a missing or unusable column each become a
recorded result with a readable message; one failed window does not stop the others.
Recomputing is idempotent (windows are unique per config, start and cadence; alerts
remember the windows they counted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import Role
from audit.services import audit_record
from core import drift
from core.scored_io import FileInfo, ScoredDataError, inspect_file, iter_columns
from fairness.models import ScoredDataset
from fairness.selectors import scored_dataset_local_path
from fairness.services import max_upload_bytes, scored_file_spool, scored_file_store
from governance.selectors.obligations import obligations_for_rules
from governance.selectors.raci import raci_accountable_for
from inventory.models import ModelVersion
from inventory.permissions import can_change_version
from monitoring.models import (
    Cadence,
    DriftAlert,
    DriftAlertEvent,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringWindow,
    ReferenceProfile,
)
from reviews.models import Finding, Notification
from reviews.services import notifications
from reviews.services.promotion import finding_open

logger = logging.getLogger(__name__)

MONITORING_CONSIDERATION = "production-monitoring"
DEFAULT_CADENCE = Cadence.WEEKLY
PERFORMANCE_METRICS = ("accuracy", "precision", "recall", "roc_auc")
DEFAULT_PERFORMANCE_MAX_DROP = 0.05
DEFAULT_PERFORMANCE_MIN_ROWS = 30
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def _setting(name: str, default):
    return getattr(settings, name, default)


def _batch_rows() -> int:
    return int(_setting("MONITORING_BATCH_ROWS", 1_000_000))


# --- Permissions -------------------------------------------------------------------------


def can_configure(user: User | None, version: ModelVersion) -> bool:
    """Configure monitoring and send data: the team's data scientists, governance leads."""
    return user is not None and can_change_version(user, version)


def can_handle_alert(user: User | None, config: MonitoringConfig) -> bool:
    """Acknowledge and resolve alerts: the monitoring Accountable of the use case's RACI,
    risk officers and governance leads."""
    if user is None or not user.is_authenticated:
        return False
    if has_role(user, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD):
        return True
    use_case = config.model_version.model.use_case
    return any(
        u.pk == user.pk for u in raci_accountable_for(use_case=use_case, task_code="monitoring")
    )


# --- Policy ---------------------------------------------------------------------------


def monitoring_policy(version: ModelVersion) -> dict[str, Any]:
    """Cadence and drift thresholds for the version's use case, each with its source (the
    production-monitoring obligation, or the product defaults)."""
    use_case = version.model.use_case
    rules = obligations_for_rules(use_case=use_case).get(MONITORING_CONSIDERATION)
    defaults = drift.DriftThresholds()
    if rules is None:
        why = f"{use_case.name!r} has no active production-monitoring obligation"
        return {
            "cadence": DEFAULT_CADENCE,
            "cadence_source": f"product default (weekly): {why}",
            "drift": defaults.to_dict(),
            "thresholds_source": f"product defaults (PSI > 0.2, p < 0.05 with a minimum "
            f"effect): {why}",
        }
    level = rules.get("level", "")
    where = f"the production-monitoring obligation of {use_case.name!r} ({level} level)"
    cadence = rules.get("input_drift_cadence")
    if cadence in Cadence.values:
        cadence_source = where
    elif cadence == "monthly":
        cadence, cadence_source = Cadence.WEEKLY, f"{where} asks monthly; windows are weekly"
    else:
        cadence = DEFAULT_CADENCE
        cadence_source = f"product default (weekly): {where} sets no input-drift cadence"
    psi_max = rules.get("psi_max")
    params = {} if psi_max is None else {"psi_max": psi_max}
    for key in ("alpha", "ks_min_effect", "cramers_v_min"):
        if key in rules:
            params[key] = rules[key]
    thresholds = drift.DriftThresholds.from_policy(params).to_dict()
    source = where if params else f"product defaults: {where} sets no PSI threshold"
    return {
        "cadence": cadence,
        "cadence_source": cadence_source,
        "drift": thresholds,
        "thresholds_source": source,
    }


# --- Reading stored files ----------------------------------------------------------------


class _Unreadable(Exception):
    """A stored file (or its timestamps) cannot be used; the message is for people."""


def _cast_timestamps(arr: pa.Array) -> np.ndarray:
    """UTC datetime64[ns] of an Arrow column; raises DriftInputError for values without a
    time zone or that are not date-times."""
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            raise drift.DriftInputError(
                "The timestamps have no time zone; give them with a UTC offset."
            )
        return arr.cast(pa.timestamp("ns", tz="UTC")).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            return arr.cast(pa.timestamp("ns", tz="UTC")).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # the row-by-row parser says which row has no zone or is not a date-time
            return drift._to_utc_ns(np.asarray(arr.to_pylist(), dtype=object))
    if pa.types.is_date(t):
        raise drift.DriftInputError("The timestamps are dates without a time zone.")
    raise drift.DriftInputError(f"The timestamps must be date-times, not {t}.")


def _to_numpy(arr: pa.Array, kind: str) -> np.ndarray:
    """A column for core.drift: float64 (NaN for nulls) or an object array (None)."""
    if kind == "numeric" and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if kind == "numeric" and pa.types.is_boolean(arr.type):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return np.asarray(arr.to_pylist(), dtype=object)


def _ids(arr: pa.Array) -> np.ndarray:
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_floating(arr.type):
        with contextlib.suppress(pa.ArrowInvalid):  # 12.0 is id 12; fractions stay
            arr = arr.cast(pa.int64())
    return np.asarray(arr.cast(pa.string()).to_pylist(), dtype=object)


def _iter_columns(
    path: str, info: FileInfo, columns: Sequence[str], *, text: Sequence[str] = ()
) -> Iterator[pa.RecordBatch]:
    """scored_io.iter_columns (the one reader of stored scored files) in
    MONITORING_BATCH_ROWS batches; an unreadable file raises _Unreadable."""
    try:
        yield from iter_columns(path, info, columns, text=text, batch_rows=_batch_rows())
    except ScoredDataError as exc:
        raise _Unreadable(str(exc)) from exc


def _inspect(dataset: ScoredDataset, path: str) -> FileInfo:
    try:
        return inspect_file(path, max_bytes=max_upload_bytes(), check_encoding=False)
    except ScoredDataError as exc:
        raise _Unreadable(str(exc)) from exc


# --- Configuration ------------------------------------------------------------------------


def _names(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    return [str(v).strip() for v in values if str(v).strip()]


@transaction.atomic
def monitoring_config_save(
    *,
    version: ModelVersion,
    by: User | None,
    reference: ScoredDataset,
    numeric_features: Sequence[str] | str = (),
    categorical_features: Sequence[str] | str = (),
    timestamp_column: str,
    prediction_column: str = "",
    score_column: str = "",
    outcome_column: str = "",
    id_column: str = "",
    sensitive_columns: Sequence[str] | str = (),
    performance_max_drop: float | None = None,
) -> tuple[MonitoringConfig, bool]:
    """Create or change a version's monitoring configuration; the reference profile is
    built at once (synchronously: one pass over the reference file, batch by batch).

    Cadence and thresholds come from the use case's obligations (or the defaults), with
    their source. Raises PermissionDenied unless ``by`` may change the version (None:
    the system); ValidationError naming the field for columns the reference lacks, a
    column used twice, no feature, or a reference of another version.
    """
    if by is not None and not can_configure(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads configure monitoring."
        )
    if reference.model_version_id != version.pk:
        raise ValidationError({"reference": "Choose a scored dataset of this version."})
    numeric, categorical = _names(numeric_features), _names(categorical_features)
    sensitive = _names(sensitive_columns)
    roles = {
        "timestamp_column": (timestamp_column or "").strip(),
        "prediction_column": (prediction_column or "").strip(),
        "score_column": (score_column or "").strip(),
        "outcome_column": (outcome_column or "").strip(),
        "id_column": (id_column or "").strip(),
    }
    errors: dict[str, str] = {}
    if not numeric and not categorical:
        errors["numeric_features"] = "Name at least one feature (numeric or categorical)."
    if not roles["timestamp_column"]:
        errors["timestamp_column"] = "Name the column that holds each row's time."
    if not roles["prediction_column"] and not roles["score_column"]:
        errors["prediction_column"] = "Name the prediction column or the score column."
    seen: dict[str, str] = {}
    for field_name, names in (("numeric_features", numeric), ("categorical_features", categorical)):
        for name in names:
            if name in seen:
                errors[field_name] = f"{name!r} is named twice ({seen[name]} and {field_name})."
            seen[name] = field_name
    for field_name, name in roles.items():
        if name and name in seen and field_name != "timestamp_column":
            errors[field_name] = f"{name!r} is already a feature."
    ref_columns = set(reference.columns)
    for field_name, names in (
        ("numeric_features", numeric),
        ("categorical_features", categorical),
        ("sensitive_columns", sensitive),
    ):
        missing = [n for n in names if n not in ref_columns]
        if missing:
            errors[field_name] = (
                f"Not in the reference dataset: {', '.join(map(repr, missing))}. Its columns "
                f"are: {', '.join(map(repr, reference.columns[:30]))}."
            )
    for field_name in ("prediction_column", "score_column", "outcome_column"):
        name = roles[field_name]
        if name and name not in ref_columns:
            errors[field_name] = f"{name!r} is not in the reference dataset."
    drop = DEFAULT_PERFORMANCE_MAX_DROP if performance_max_drop is None else performance_max_drop
    if not isinstance(drop, int | float) or isinstance(drop, bool) or not 0 <= drop <= 1:
        errors["performance_max_drop"] = "Give a number between 0 and 1."
    if errors:
        raise ValidationError(errors)
    policy = monitoring_policy(version)
    now = timezone.now()
    config = MonitoringConfig.objects.select_for_update().filter(model_version=version).first()
    created = config is None
    if created:
        config = MonitoringConfig(model_version=version, created_by=by, created_at=now)
    before = None if created else _config_snapshot(config)
    config.reference = reference
    config.numeric_features = numeric
    config.categorical_features = categorical
    config.sensitive_columns = sensitive
    for field_name, name in roles.items():
        setattr(config, field_name, name)
    config.cadence = policy["cadence"]
    config.cadence_source = policy["cadence_source"]
    config.thresholds = {
        **policy["drift"],
        "performance_max_drop": float(drop),
        "performance_min_rows": DEFAULT_PERFORMANCE_MIN_ROWS,
    }
    config.thresholds_source = policy["thresholds_source"]
    config.updated_at = now
    config.full_clean()
    config.save()
    after = _config_snapshot(config)
    audit_record(
        action="monitoring.configured",
        obj=config,
        actor=by,
        reason=f"Cadence: {config.cadence_source}. Thresholds: {config.thresholds_source}.",
        changes={k: [None if before is None else before[k], v] for k, v in after.items()
                 if before is None or before[k] != v},
        parent=version,
    )  # fmt: skip
    profile = reference_profile_build(config=config)
    if profile.error:
        raise ValidationError({"reference": profile.error})
    _performance_floors(config, profile)
    return config, created


def _config_snapshot(config: MonitoringConfig) -> dict[str, Any]:
    return {
        "reference": config.reference_id,
        "numeric_features": list(config.numeric_features),
        "categorical_features": list(config.categorical_features),
        "prediction_column": config.prediction_column,
        "score_column": config.score_column,
        "outcome_column": config.outcome_column,
        "timestamp_column": config.timestamp_column,
        "id_column": config.id_column,
        "sensitive_columns": list(config.sensitive_columns),
        "cadence": config.cadence,
        "thresholds": dict(config.thresholds),
    }


def _performance_floors(config: MonitoringConfig, profile: ReferenceProfile) -> None:
    """Floors = the reference's own metric minus the allowed drop (none without outcomes)."""
    overall = (profile.performance or {}).get("overall") or {}
    drop = float(config.thresholds.get("performance_max_drop", DEFAULT_PERFORMANCE_MAX_DROP))
    floors = {
        m: round(max(float(overall[m]) - drop, 0.0), 6)
        for m in PERFORMANCE_METRICS
        if overall.get(m) is not None
    }
    config.thresholds = {**config.thresholds, "performance_min": floors}
    MonitoringConfig.objects.filter(pk=config.pk).update(thresholds=config.thresholds)


# --- Reference profile --------------------------------------------------------------------


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
    except (_Unreadable, ValueError) as exc:
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
        info = _inspect(dataset, path)
        missing = [c for c in needed if c not in info.columns]
        if missing:
            raise _Unreadable(f"the reference has no column {', '.join(map(repr, missing))}")
        for rb in _iter_columns(path, info, needed, text=categorical):
            cols = {c: _to_numpy(rb.column(c), "numeric" if c in numeric else "categorical")
                    for c in [*numeric, *categorical]}  # fmt: skip
            parts.append(
                drift.profile_build(
                    cols, numeric=numeric, categorical=categorical, bins=options["bins"]
                )
            )
            if outcome and prediction:
                ys.append(_to_numpy(rb.column(outcome), "numeric"))
                yhats.append(_to_numpy(rb.column(prediction), "numeric"))
                if score:
                    scores.append(_to_numpy(rb.column(score), "numeric"))
    if not parts:
        raise _Unreadable("the reference has no rows")
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


# --- Receiving production batches and outcomes -----------------------------------------------


@dataclass
class _MonitoringMapping:
    """The column mapping stored on a monitoring ScoredDataset (scored_io's ColumnMapping
    needs an outcome, which production rows do not have yet)."""

    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.data)


def _rows_file(rows: Any) -> ContentFile:
    """JSON rows (a list of objects) as a Parquet file, stored like an upload."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, Mapping) for r in rows):
        raise ValidationError({"rows": "Give the rows as a non-empty list of objects."})
    columns = list(dict.fromkeys(k for r in rows for k in r))
    try:
        table = pa.table({c: pa.array([r.get(c) for r in rows]) for c in columns})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationError({"rows": f"The rows cannot be read as a table: {exc}"}) from exc
    out = io.BytesIO()
    pq.write_table(table, out)
    return ContentFile(out.getvalue(), name="rows.parquet")


def _known_ids(config: MonitoringConfig) -> np.ndarray:
    ids = []
    for batch in config.batches.filter(kind=MonitoringBatch.Kind.PRODUCTION).select_related(
        "dataset"
    ):
        with scored_dataset_local_path(batch.dataset) as path:
            info = _inspect(batch.dataset, path)
            if config.id_column not in info.columns:
                continue
            for rb in _iter_columns(path, info, [config.id_column], text=[config.id_column]):
                ids.append(_ids(rb.column(config.id_column)))
    return np.unique(np.concatenate(ids).astype(str)) if ids else np.empty(0, dtype=str)


def _check_production(config: MonitoringConfig, path: str, info: FileInfo, now) -> dict:
    """Read a production file once: timestamps must carry a zone (else ValidationError);
    future or missing ones are counted and recorded. Returns what the batch row keeps."""
    ts_col = config.timestamp_column
    needed = [ts_col, config.drift_prediction_column, config.prediction_column]
    if config.id_column:
        needed.append(config.id_column)
    missing = [c for c in dict.fromkeys(needed) if c and c not in info.columns]
    if missing:
        raise ValidationError(
            {"file": f"The file has no column {', '.join(map(repr, missing))}; its columns are "
             f"{', '.join(map(repr, info.columns[:30]))}."}
        )  # fmt: skip
    problems: list[str] = []
    features = set(config.features)
    absent = [c for c in config.features if c not in info.columns]
    if absent:
        problems.append(
            f"Missing feature column(s) {', '.join(map(repr, absent))}: reported as missing "
            "in the windows."
        )
    roles = {config.timestamp_column, config.id_column, config.prediction_column}
    roles |= {config.score_column, config.outcome_column, *config.sensitive_columns}
    extra = [c for c in info.columns if c not in features and c not in roles]
    if extra:
        problems.append(
            f"Column(s) not in the monitoring configuration, not compared: "
            f"{', '.join(map(repr, extra[:20]))}."
        )
    lo = hi = None
    rows = rejected = 0
    now64 = np.datetime64(now.astimezone(dt.UTC).replace(tzinfo=None), "ns")
    text = [ts_col, config.id_column] if config.id_column else [ts_col]
    try:
        for rb in _iter_columns(path, info, [ts_col], text=text):
            ts = _cast_timestamps(rb.column(ts_col))
            rows += len(ts)
            bad = np.isnat(ts) | (ts > now64)
            rejected += int(bad.sum())
            good = ts[~bad]
            if good.size:
                lo = good.min() if lo is None else min(lo, good.min())
                hi = good.max() if hi is None else max(hi, good.max())
    except drift.DriftInputError as exc:
        raise ValidationError({"file": f"Column {ts_col!r}: {exc}"}) from exc
    except _Unreadable as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if rejected:
        problems.append(
            f"{rejected:,} row(s) have no timestamp or one in the future; they are left out "
            "of every window."
        )
    if rows and rejected == rows:
        raise ValidationError({"file": "Every timestamp is missing or in the future."})

    def aware(x):
        if x is None:
            return None
        return dt.datetime.fromisoformat(str(x.astype("datetime64[us]"))).replace(tzinfo=dt.UTC)

    return {"time_start": aware(lo), "time_end": aware(hi), "rows": rows,
            "rejected_rows": rejected, "problems": problems}  # fmt: skip


def _check_outcomes(config: MonitoringConfig, path: str, info: FileInfo) -> dict:
    """Outcomes must be 0/1 with a prediction id; ids of no production row are counted
    and recorded (all unknown: ValidationError)."""
    if not config.id_column or not config.outcome_column:
        raise ValidationError(
            {"file": "Outcomes are joined by prediction id: configure the id column and the "
             "outcome column first."}
        )  # fmt: skip
    missing = [c for c in (config.id_column, config.outcome_column) if c not in info.columns]
    if missing:
        raise ValidationError({"file": f"The file has no column {', '.join(map(repr, missing))}."})
    known = _known_ids(config)
    rows = matched = 0
    unknown_examples: list[str] = []
    try:
        for rb in _iter_columns(
            path, info, [config.id_column, config.outcome_column], text=[config.id_column]
        ):
            ids = _ids(rb.column(config.id_column)).astype(str)
            y = _to_numpy(rb.column(config.outcome_column), "numeric")
            if y.dtype.kind != "f":
                raise ValidationError({"file": "The outcomes must be 0 or 1."})
            bad = ~np.isnan(y) & (y != 0) & (y != 1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(
                    {"file": f"Row {rows + i + 1:,}: the outcome {y[i]!r} is not 0 or 1."}
                )
            hit = np.isin(ids, known)
            rows += len(ids)
            matched += int(hit.sum())
            unknown_examples += ids[~hit][: 5 - len(unknown_examples)].tolist()
    except _Unreadable as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if rows and not matched:
        raise ValidationError(
            {"file": f"None of the {rows:,} prediction ids is in a production batch of this "
             f"version (e.g. {', '.join(map(repr, unknown_examples[:3]))})."}
        )  # fmt: skip
    problems = []
    if matched < rows:
        problems.append(
            f"{rows - matched:,} outcome(s) for unknown prediction ids (e.g. "
            f"{', '.join(map(repr, unknown_examples))}) are ignored."
        )
    return {"rows": rows, "matched_rows": matched, "problems": problems}


def monitoring_batch_upload(
    *,
    config: MonitoringConfig,
    by: User | None,
    file=None,
    rows: list[Mapping[str, Any]] | None = None,
    kind: str = MonitoringBatch.Kind.PRODUCTION,
    name: str = "",
    now: dt.datetime | None = None,
) -> tuple[MonitoringBatch, bool]:
    """Receive a production batch or a file of outcomes (CSV/Parquet upload, or JSON
    rows stored as Parquet), stored as a ScoredDataset of the version.

    Checked before anything is stored: the format and size (scored_io), the configured
    columns, timestamps with a time zone (production), outcomes 0/1 for known prediction
    ids (outcomes). Future or missing timestamps and unknown ids are recorded on the
    batch. The same bytes again return the batch received before. Returns
    (batch, created). Raises PermissionDenied / ValidationError; queues nothing (the
    beat task or a recompute picks the batch up).
    """
    version = config.model_version
    if by is not None and not can_configure(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads send data."
        )
    if kind not in MonitoringBatch.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    if (file is None) == (rows is None):
        raise ValidationError({"file": "Send a file or JSON rows (one of them)."})
    if rows is not None:
        file = _rows_file(rows)
        name = name or f"{kind}-rows.parquet"
    now = now or timezone.now()
    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError({"file": f"The file is {size:,} bytes, over the limit of {limit:,}."})
    original = os.path.basename(name or getattr(file, "name", "") or f"{kind}.csv")[:255]
    digest = hashlib.sha256()
    path, temporary = scored_file_spool(file, digest)
    try:
        sha = digest.hexdigest()
        existing = ScoredDataset.objects.filter(model_version=version, sha256=sha).first()
        if existing is not None:
            batch = MonitoringBatch.objects.filter(dataset=existing).first()
            if batch is not None and batch.config_id == config.pk and batch.kind == kind:
                return batch, False
            raise ValidationError(
                {"file": f"These exact bytes are already attached to this version as dataset "
                 f"#{existing.pk} ({existing.original_name})."}
            )  # fmt: skip
        try:
            info = inspect_file(path, max_bytes=limit)
        except ScoredDataError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        if kind == MonitoringBatch.Kind.PRODUCTION:
            found = _check_production(config, path, info, now)
        else:
            found = _check_outcomes(config, path, info)
        mapping = _MonitoringMapping(
            {
                "monitoring": kind,
                "outcome": config.outcome_column or None,
                "sensitive": list(config.sensitive_columns),
                "prediction": config.prediction_column or None,
                "score": config.score_column or None,
                "timestamp": config.timestamp_column or None,
                "id": config.id_column or None,
                "features": config.features,
            }
        )
        with transaction.atomic():
            dataset, _ = scored_file_store(
                version,
                by,
                path,
                sha,
                info,
                mapping,
                original,
                f"Monitoring: {MonitoringBatch.Kind(kind).label.lower()}.",
                ScoredDataset.Purpose.PRODUCTION,
            )
            batch = MonitoringBatch.objects.create(
                config=config, dataset=dataset, kind=kind, received_at=now, **found
            )
            audit_record(
                action=f"monitoring.{kind}_received",
                obj=batch,
                actor=by,
                reason=f"{original}: {batch.rows:,} rows. " + " ".join(found["problems"]),
                parent=version,
            )
        return batch, True
    finally:
        if temporary:
            os.remove(path)


# --- Computing windows ----------------------------------------------------------------------


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
    ids, ys = [], []
    batches = config.batches.filter(kind=MonitoringBatch.Kind.OUTCOMES).order_by(
        "received_at", "pk"
    )
    for batch in batches.select_related("dataset"):
        try:
            with scored_dataset_local_path(batch.dataset) as path:
                info = _inspect(batch.dataset, path)
                cols = [config.id_column, config.outcome_column]
                for rb in _iter_columns(path, info, cols, text=[config.id_column]):
                    ids.append(_ids(rb.column(config.id_column)).astype(str))
                    ys.append(_to_numpy(rb.column(config.outcome_column), "numeric"))
        except (_Unreadable, KeyError, OSError):
            logger.warning("outcome batch %s unreadable", batch.pk)
    if not ids:
        return np.empty(0, dtype=str), np.empty(0)
    all_ids, all_y = np.concatenate(ids), np.concatenate(ys)
    rev_ids = all_ids[::-1]
    uniq, first = np.unique(rev_ids, return_index=True)  # first in reverse = last received
    return uniq, all_y[::-1][first]


def _join(ids: np.ndarray, lookup: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    keys, values = lookup
    out = np.full(len(ids), np.nan)
    if not len(keys) or not len(ids):
        return out
    pos = np.searchsorted(keys, ids)
    pos = np.clip(pos, 0, len(keys) - 1)
    hit = keys[pos] == ids
    out[hit] = values[pos[hit]]
    return out


def _read_batch(config, batch, options, cadence, now, windows: dict) -> list[str]:
    """Add one production batch's rows to the windows they fall in. Returns problems."""
    numeric, categorical = options["numeric"], options["categorical"]
    ts_col = config.timestamp_column
    needed = [ts_col, *numeric, *categorical, config.prediction_column, config.score_column,
              config.id_column, *config.sensitive_columns]  # fmt: skip
    needed = [c for c in dict.fromkeys(needed) if c]
    text = [ts_col, config.id_column, *categorical, *config.sensitive_columns]
    problems: list[str] = []
    with scored_dataset_local_path(batch.dataset) as path:
        info = _inspect(batch.dataset, path)
        if ts_col not in info.columns:
            raise _Unreadable(f"The batch has no timestamp column {ts_col!r}.")
        for rb in _iter_columns(path, info, needed, text=[c for c in text if c]):
            ts = _cast_timestamps(rb.column(ts_col))
            split = drift.window_split(ts, cadence, now=now)
            for err in split.errors:
                if err not in problems:
                    problems.append(err)
            present = set(rb.schema.names)
            cols = {
                c: _to_numpy(rb.column(c), "numeric" if c in numeric else "categorical")
                for c in [*numeric, *categorical]
                if c in present
            }
            for w in split.windows:
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
                    parts.yhat.append(
                        _to_numpy(rb.column(config.prediction_column), "numeric")[w.rows]
                    )
                    if config.id_column and config.id_column in present:
                        parts.ids.append(_ids(rb.column(config.id_column)).astype(str)[w.rows])
                    if config.score_column and config.score_column in present:
                        parts.score.append(
                            _to_numpy(rb.column(config.score_column), "numeric")[w.rows]
                        )
                    for s in config.sensitive_columns:
                        if s in present:
                            vals = _to_numpy(rb.column(s), "categorical")[w.rows]
                            parts.groups.setdefault(s, []).append(vals)
    return problems


def _window_result(config, reference, parts: _WindowParts | None, lookup, thresholds, extra):
    """(status, message, results) of one window. Never raises for bad data."""
    if parts is None or parts.rows == 0:
        empty = drift.drift_compare(
            reference, {}, thresholds=thresholds, prediction=config.drift_prediction_column
        )
        return MonitoringWindow.Status.EMPTY, "The window has no rows.", {
            "drift": empty, "performance": None, "rows": 0}  # fmt: skip
    window = drift.profile_merge(parts.profiles) if len(parts.profiles) > 1 else parts.profiles[0]
    result = drift.drift_compare(
        reference, window, thresholds=thresholds, prediction=config.drift_prediction_column
    )
    for name in extra:
        result["features"][name] = drift._result(
            name, None, drift.NOT_IN_REFERENCE,
            "In the production data but not in the reference; not compared.",
        )  # fmt: skip
    perf = _window_performance(config, parts, lookup)
    status = MonitoringWindow.Status.OK
    notes = []
    if result["problems"]:
        notes.append(f"{len(result['problems'])} column(s) not compared")
    if result["drifted"]:
        notes.append(f"drift in {', '.join(result['drifted'])}")
    if result.get("prediction_drift"):
        notes.append("prediction drift")
    return status, ("; ".join(notes) or "No drift.").capitalize(), {
        "drift": result, "performance": perf, "rows": parts.rows}  # fmt: skip


def _window_performance(config, parts: _WindowParts, lookup) -> dict | None:
    if not parts.yhat:
        return None
    if not parts.ids or not len(lookup[0]):
        return {"rows": parts.rows, "rows_with_outcome": 0, "overall": None, "groups": {},
                "message": "No outcomes have arrived for this window."}  # fmt: skip
    ids = np.concatenate(parts.ids)
    y = _join(ids, lookup)
    yhat = np.concatenate(parts.yhat)
    score = np.concatenate(parts.score) if parts.score else None
    groups = {k: np.concatenate(v) for k, v in parts.groups.items()}
    try:
        return drift.performance(y, yhat, score=score, groups=groups)
    except ValueError as exc:
        return {"rows": parts.rows, "rows_with_outcome": 0, "overall": None, "groups": {},
                "message": f"Performance cannot be computed: {exc}"}  # fmt: skip


def _window_starts(found: Sequence[dt.datetime], cadence: str, now: dt.datetime):
    """Every window start from the first with rows to the last complete one."""
    if not found:
        return []
    step = dt.timedelta(days=1 if cadence == Cadence.DAILY else 7)
    out, start = [], min(found)
    while start + step <= now:
        out.append(start)
        start += step
    return out


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
    cadence = config.cadence
    profile_row = reference_profile_build(config=config)
    run: dict[str, Any] = {"at": now.isoformat(), "cadence": cadence, "batch_problems": []}
    if profile_row.error:
        run.update(windows=0, failed=0, error=profile_row.error)
        _save_run(config, run, now)
        return run
    reference = drift.Profile.from_dict(profile_row.profile)
    options = profile_row.options
    thresholds = drift.DriftThresholds.from_policy(config.thresholds)
    windows: dict[dt.datetime, _WindowParts] = {}
    extra: set[str] = set()
    roles = {config.timestamp_column, config.id_column, config.prediction_column,
             config.score_column, config.outcome_column, *config.sensitive_columns}  # fmt: skip
    batches = config.batches.filter(kind=MonitoringBatch.Kind.PRODUCTION).select_related("dataset")
    for batch in batches.order_by("received_at", "pk"):
        try:
            problems = _read_batch(config, batch, options, cadence, now, windows)
            extra |= {c for c in batch.dataset.columns if c not in reference.features} - roles
        except (_Unreadable, drift.DriftInputError, OSError) as exc:
            problems = [f"Batch #{batch.pk} ({batch.dataset.original_name}) left out: {exc}"]
        for p in problems:
            run["batch_problems"].append({"batch": batch.pk, "problem": p})
    lookup = _outcome_lookup(config) if config.id_column and config.outcome_column else (
        np.empty(0, dtype=str), np.empty(0))  # fmt: skip
    starts = _window_starts([k.replace(tzinfo=dt.UTC) for k in windows], cadence, now)
    step = dt.timedelta(days=1 if cadence == Cadence.DAILY else 7)
    computed, failed = [], 0
    for start in starts:
        parts = windows.get(start.replace(tzinfo=None))
        try:
            status, message, results = _window_result(
                config, reference, parts, lookup, thresholds, sorted(extra)
            )
        except Exception as exc:  # one window never stops the others
            logger.exception("monitoring window %s of config %s failed", start, config.pk)
            status, message, results = (
                MonitoringWindow.Status.FAILED,
                f"The window could not be computed ({type(exc).__name__}: {exc}).",
                {"rows": parts.rows if parts else 0},
            )
            failed += 1
        perf = results.get("performance") or {}
        d = results.get("drift") or {}
        window, _ = MonitoringWindow.objects.update_or_create(
            config=config,
            start=start,
            cadence=cadence,
            defaults={
                "end": start + step,
                "status": status,
                "message": message[:2000],
                "rows": results.get("rows", 0),
                "rows_with_outcome": perf.get("rows_with_outcome", 0) or 0,
                "drifted": list(d.get("drifted", [])),
                "results": results,
                "computed_at": now,
            },
        )
        computed.append(window)
    opened = _alerts_update(config, computed, now, queue_emails=queue_emails)
    run.update(windows=len(computed), failed=failed, alerts_opened=opened)
    _save_run(config, run, now)
    return run


def _save_run(config: MonitoringConfig, run: dict, now) -> None:
    MonitoringConfig.objects.filter(pk=config.pk).update(last_run=run, last_computed_at=now)


# --- Alerts -------------------------------------------------------------------------------


def _breaches(config: MonitoringConfig, window: MonitoringWindow) -> list[dict]:
    """(feature, kind, message, detail) of every threshold the window breaches."""
    out = []
    if window.status != MonitoringWindow.Status.OK:
        return out
    d = window.results.get("drift") or {}
    for name, r in (d.get("features") or {}).items():
        if r.get("drift"):
            keys = ("psi", "ks_pvalue", "chi2_pvalue", "ks_statistic", "cramers_v")
            out.append(
                {
                    "feature": name,
                    "kind": DriftAlert.Kind.INPUT,
                    "message": f"Input drift in {name}: " + "; ".join(r["reasons"]),
                    "detail": {k: r.get(k) for k in keys},
                }
            )
    pred = d.get("prediction") or {}
    if pred.get("drift"):
        out.append({"feature": pred["feature"], "kind": DriftAlert.Kind.PREDICTION,
                    "message": f"Prediction drift in {pred['feature']}: "
                    + "; ".join(pred["reasons"]), "detail": {"psi": pred.get("psi")}})  # fmt: skip
    perf = window.results.get("performance") or {}
    overall = perf.get("overall") or {}
    floors = config.thresholds.get("performance_min") or {}
    min_rows = int(config.thresholds.get("performance_min_rows", DEFAULT_PERFORMANCE_MIN_ROWS))
    if overall and (overall.get("n") or 0) >= min_rows:
        for metric, floor in floors.items():
            value = overall.get(metric)
            if value is not None and value < floor:
                out.append({"feature": metric, "kind": DriftAlert.Kind.PERFORMANCE,
                            "message": f"{metric.replace('_', ' ').capitalize()} {value:.3f} "
                            f"is below the floor {floor:.3f} ({overall['n']:,} outcomes)",
                            "detail": {"value": value, "floor": floor}})  # fmt: skip
    return out


@transaction.atomic
def _alerts_update(
    config: MonitoringConfig,
    windows: Sequence[MonitoringWindow],
    now,
    *,
    queue_emails: bool = True,
) -> int:
    """Open an alert for a first breach, count later breaches on the open one; each
    window is counted once, so a recompute changes nothing. Returns alerts opened."""
    config = MonitoringConfig.objects.select_for_update().get(pk=config.pk)
    active = {
        (a.feature, a.kind): a for a in config.alerts.exclude(status=DriftAlert.Status.RESOLVED)
    }
    covered: dict[tuple[str, str], dt.datetime] = {}
    for a in config.alerts.filter(status=DriftAlert.Status.RESOLVED).select_related("last_window"):
        end = (a.last_window or a.window).end
        key = (a.feature, a.kind)
        covered[key] = max(covered.get(key, end), end)
    opened = 0
    for window in sorted(windows, key=lambda w: w.start):
        for b in _breaches(config, window):
            key = (b["feature"], b["kind"])
            if key in covered and window.start < covered[key]:
                continue  # a resolved alert already covered this breach
            alert = active.get(key)
            if alert is None:
                alert = _alert_open(config, window, b, now, queue_emails=queue_emails)
                active[key] = alert
                opened += 1
                continue
            seen = alert.detail.get("windows", [])
            if window.pk in seen:
                continue
            alert.detail = {**alert.detail, "windows": [*seen, window.pk], "last": b["detail"]}
            alert.breaches = len(alert.detail["windows"])
            if alert.last_window is None or window.start >= alert.last_window.start:
                alert.last_window = window
            alert.updated_at = now
            alert.save(update_fields=["detail", "breaches", "last_window", "updated_at"])
            DriftAlertEvent.objects.create(
                alert=alert, action=DriftAlertEvent.Action.BREACHED, at=now, window=window,
                reason=b["message"][:2000],
            )  # fmt: skip
    return opened


def _alert_open(config, window, breach, now, *, queue_emails: bool = True) -> DriftAlert:
    version = config.model_version
    alert = DriftAlert.objects.create(
        config=config,
        window=window,
        last_window=window,
        feature=breach["feature"][:200],
        kind=breach["kind"],
        message=f"{breach['message']} (window of {window.start:%Y-%m-%d}).",
        detail={"windows": [window.pk], "first": breach["detail"]},
        opened_at=now,
        updated_at=now,
    )
    DriftAlertEvent.objects.create(
        alert=alert, action=DriftAlertEvent.Action.OPENED, at=now, window=window,
        reason=alert.message[:2000],
    )  # fmt: skip
    finding, _ = finding_open(
        version=version,
        by=None,
        title=f"Monitoring: {alert.message}"[:300],
        source=Finding.Source.MONITORING,
        detail={"alert": alert.pk, "feature": alert.feature, "kind": alert.kind,
                "window": window.start.isoformat()},
        key=f"monitoring:{config.pk}:{alert.kind}:{alert.feature}"[:200],
    )  # fmt: skip
    alert.finding = finding
    alert.save(update_fields=["finding"])
    audit_record(
        action="drift_alert.opened", obj=alert, actor=None, reason=alert.message, parent=version
    )
    notify_alert(alert, queue=queue_emails)
    return alert


def notify_alert(alert: DriftAlert, *, queue: bool = True) -> list[Notification]:
    """Queue one e-mail per monitoring Accountable for the alert (exactly once: the key
    is per alert and recipient), sent after commit; with ``queue`` False the outbox row
    only (the scheduled ``notifications_flush`` sends it later)."""
    config = alert.config
    use_case = config.model_version.model.use_case
    out = [
        notifications.queue(
            key=f"drift-alert:{alert.pk}:user:{user.pk}",
            kind=Notification.Kind.DRIFT_ALERT,
            recipient=user,
            version=config.model_version,
            drift_alert=alert,
            context={"alert": alert.pk, "message": alert.message},
            send=queue,
        )
        for user in raci_accountable_for(use_case=use_case, task_code="monitoring")
    ]
    return [n for n in out if n]


def monitoring_url(version: ModelVersion) -> str:
    return settings.SITE_URL + reverse("monitoring:monitoring", args=[version.pk])


def render_notification(note: Notification) -> tuple[str, str, None]:
    """Subject and text of a drift-alert e-mail (sent by the shared outbox)."""
    alert = note.drift_alert
    version = alert.config.model_version
    context = {"note": note, "alert": alert, "version": version,
               "use_case": version.model.use_case, "url": monitoring_url(version)}  # fmt: skip
    subject = f"Monitoring alert: {alert.get_kind_display().lower()} in {alert.feature} ({version})"
    return subject, render_to_string("monitoring/email.txt", context), None


def drift_alert_notification_send(*, notification_id: int) -> str:
    """Send one alert e-mail exactly once (the shared outbox's sender)."""
    return notifications.notification_send(notification_id=notification_id)


def _alert_move(*, alert: DriftAlert, by: User, reason: str, to: str) -> DriftAlert:
    alert = (
        DriftAlert.objects.select_for_update()
        .select_related("config__model_version__model__use_case")
        .get(pk=alert.pk)
    )
    if not can_handle_alert(by, alert.config):
        raise PermissionDenied(
            "Only the monitoring Accountable, risk officers and governance leads handle alerts."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason."})
    if alert.status == DriftAlert.Status.RESOLVED:
        raise ValidationError("This alert is already resolved.")
    if to == DriftAlert.Status.ACKNOWLEDGED and alert.status == DriftAlert.Status.ACKNOWLEDGED:
        raise ValidationError("This alert is already acknowledged.")
    old, now = alert.status, timezone.now()
    alert.status, alert.updated_at = to, now
    alert.save(update_fields=["status", "updated_at"])
    DriftAlertEvent.objects.create(alert=alert, action=to, by=by, at=now, reason=reason)
    audit_record(
        action=f"drift_alert.{to}",
        obj=alert,
        actor=by,
        reason=reason,
        changes={"status": [old, to]},
        parent=alert.config.model_version,
    )
    return alert


@transaction.atomic
def drift_alert_acknowledge(*, alert: DriftAlert, by: User, reason: str) -> DriftAlert:
    """Acknowledge an open alert (it stays the one alert for its feature and kind).
    Raises PermissionDenied, or ValidationError without a reason or when resolved."""
    return _alert_move(alert=alert, by=by, reason=reason, to=DriftAlert.Status.ACKNOWLEDGED)


@transaction.atomic
def drift_alert_resolve(*, alert: DriftAlert, by: User, reason: str) -> DriftAlert:
    """Resolve an alert with a reason; a later breach opens a new one. Its finding is
    resolved too when ``by`` may resolve findings (risk officers, governance leads)."""
    alert = _alert_move(alert=alert, by=by, reason=reason, to=DriftAlert.Status.RESOLVED)
    finding = alert.finding
    if finding is not None and finding.status == Finding.Status.OPEN:
        from reviews import permissions
        from reviews.services.promotion import finding_resolve

        others = DriftAlert.objects.filter(finding=finding).exclude(
            status=DriftAlert.Status.RESOLVED
        )
        if permissions.can_resolve_finding(by) and not others.exists():
            finding_resolve(
                finding=finding, by=by, resolution=f"Monitoring alert resolved: {reason}"
            )
    return alert


# --- Recompute on demand and the schedule ---------------------------------------------------


def monitoring_recompute_request(*, config: MonitoringConfig, by: User) -> None:
    """Queue a recomputation of every window (after commit). PermissionDenied unless
    ``by`` configures the version or handles its alerts."""
    if not (can_configure(by, config.model_version) or can_handle_alert(by, config)):
        raise PermissionDenied("You may not recompute this version's monitoring.")
    audit_record(action="monitoring.recompute_requested", obj=config, actor=by,
                 parent=config.model_version)  # fmt: skip
    from monitoring.tasks import monitoring_compute as monitoring_compute_task

    pk = config.pk
    transaction.on_commit(lambda: monitoring_compute_task.delay(config_id=pk))


def monitoring_configs_due(*, now: dt.datetime | None = None) -> list[int]:
    """Configurations with a complete window not computed yet, or data received since the
    last computation: what the daily schedule computes (each at its own cadence)."""
    now = now or timezone.now()
    due = []
    for config in MonitoringConfig.objects.all().only("pk", "cadence", "last_computed_at"):
        last = config.last_computed_at
        if last is None:
            due.append(config.pk)
            continue
        if config.batches.filter(received_at__gt=last).exists():
            due.append(config.pk)
            continue
        step = dt.timedelta(days=1 if config.cadence == Cadence.DAILY else 7)
        latest = config.windows.filter(cadence=config.cadence).order_by("-start").first()
        if latest is not None and latest.end + step <= now:
            due.append(config.pk)
    return due
