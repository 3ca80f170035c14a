"""Reads of production monitoring (issue #6): a version's configuration, its windows and
alerts, the open alerts for the home page, and the display-ready series of the charts
(heatmap, distribution of a feature, performance over time)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.permissions import AnyUser, has_any_role
from inventory.models import ModelVersion
from monitoring.models import (
    DriftAlert,
    DriftAlertEvent,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringWindow,
    ReferenceProfile,
    ReferenceProfileFeature,
)
from monitoring.services import (
    PERFORMANCE_METRICS,
    _profile_options,
    profile_fingerprint,
    reference_profile_of,
)


def monitoring_config_list(*, user: AnyUser | None = None) -> QuerySet[MonitoringConfig]:
    qs = MonitoringConfig.objects.select_related(
        "model_version__model__use_case", "reference", "created_by"
    )
    if user is not None and not has_any_role(user):
        return qs.none()
    return qs


def monitoring_config_for_version(version: ModelVersion) -> MonitoringConfig | None:
    return monitoring_config_list().filter(model_version=version).first()


def window_list(*, config: MonitoringConfig, current_cadence: bool = True):
    qs = MonitoringWindow.objects.filter(config=config).order_by("start")
    if current_cadence:
        qs = qs.filter(cadence=config.cadence)
    return qs


def batch_list(*, config: MonitoringConfig) -> QuerySet[MonitoringBatch]:
    """Every batch of the configuration, published or not (the page shows each one's
    state); computations read ``services.files.batches_published`` only."""
    return config.batches.select_related("dataset", "dataset__uploaded_by")


def alert_list(
    *, config: MonitoringConfig | None = None, active: bool | None = None
) -> QuerySet[DriftAlert]:
    qs = DriftAlert.objects.select_related(
        "config__model_version__model__use_case", "window", "last_window", "finding"
    ).prefetch_related(
        Prefetch("events", queryset=DriftAlertEvent.objects.select_related("by", "window"))
    )
    if config is not None:
        qs = qs.filter(config=config)
    if active is True:
        qs = qs.exclude(status=DriftAlert.Status.RESOLVED)
    elif active is False:
        qs = qs.filter(status=DriftAlert.Status.RESOLVED)
    return qs


def alert_get(*, pk: int) -> DriftAlert:
    """Raises DriftAlert.DoesNotExist."""
    return alert_list().get(pk=pk)


def alerts_open_for_home(*, user: AnyUser, limit: int = 5) -> dict[str, Any]:
    """Open and acknowledged alerts across the portfolio: the counts and the newest, in
    one query (active alerts are few: one per feature and kind at most)."""
    if not has_any_role(user):
        return {"count": 0, "open": 0, "alerts": []}
    active = list(
        DriftAlert.objects.exclude(status=DriftAlert.Status.RESOLVED)
        .select_related("config__model_version__model__use_case")
        .order_by("-updated_at", "-id")
    )
    return {
        "count": len(active),
        "open": sum(a.status == DriftAlert.Status.OPEN for a in active),
        "alerts": active[:limit],
    }


def reference_profile_for(config: MonitoringConfig) -> ReferenceProfile | None:
    """The configuration's reference profile row (its state, summary and performance;
    the columns' arrays are rows of their own, not read here). Cached on the
    configuration for the request."""
    if not hasattr(config, "_reference_profile"):
        config._reference_profile = reference_profile_of(config)
    return config._reference_profile


def reference_profiles_attach(configs: list[MonitoringConfig]) -> list[MonitoringConfig]:
    """Read the reference profiles of many configurations in one query (their state and
    figures, not the summary or performance) and cache each on its configuration, where
    ``reference_profile_for`` finds it: a list shows every row's state without a query
    per row. Returns the configurations."""
    keys = {
        c.pk: (c.reference_id, profile_fingerprint(_profile_options(c)))
        for c in configs
        if not hasattr(c, "_reference_profile")
    }
    if not keys:
        return configs
    found = {
        (p.dataset_id, p.fingerprint): p
        for p in ReferenceProfile.objects.filter(
            dataset_id__in={k[0] for k in keys.values()},
            fingerprint__in={k[1] for k in keys.values()},
        ).defer("summary", "performance")
    }
    for c in configs:
        if c.pk in keys:
            c._reference_profile = found.get(keys[c.pk])
    return configs


def reference_profile_state(profile: ReferenceProfile | None) -> dict[str, Any]:
    """The profile's state as plain values for the monitoring page's poll: the status,
    whether a worker still has it (``pending``), the reason when it failed, the rows
    and build time when ready."""
    if profile is None:
        return {"status": "missing", "status_display": "Not asked for", "pending": False}
    failed = profile.status == ReferenceProfile.Status.FAILED
    return {
        "status": profile.status,
        "status_display": profile.get_status_display(),
        "pending": profile.is_pending,
        "reason": profile.error if failed else None,
        "rows": profile.rows if profile.is_ready else None,
        "built_at": profile.built_at.isoformat() if profile.built_at else None,
    }


def reference_edges(profile: ReferenceProfile | None, feature: str) -> list[float]:
    """The reference's quantile bin edges of one numeric feature (one small read)."""
    if profile is None or not profile.is_ready:
        return []
    found = ReferenceProfileFeature.objects.filter(profile=profile, name=feature).values_list(
        "edges", flat=True
    )
    return list(found.first() or [])


def _label(window: MonitoringWindow) -> str:
    return f"{window.start:%Y-%m-%d}"


def heatmap_data(
    config: MonitoringConfig, windows: list[MonitoringWindow], *, metric: str = "psi"
) -> dict[str, Any]:
    """Per feature (and the prediction) per window: PSI or the test's p-value, and
    whether the feature drifted; None where it was not compared."""
    features = list(config.features)
    pred = config.drift_prediction_column
    rows = [*features, *([pred] if pred else [])]
    values, drifted = [], []
    for name in rows:
        v_row, d_row = [], []
        for w in windows:
            d = (w.results or {}).get("drift") or {}
            r = (d.get("prediction") if name == pred else (d.get("features") or {}).get(name)) or {}
            v = r.get("ks_pvalue", r.get("chi2_pvalue")) if metric == "pvalue" else r.get("psi")
            v_row.append(v)
            d_row.append(bool(r.get("drift")))
        values.append(v_row)
        drifted.append(d_row)
    labels = [f"{name} (prediction)" if name == pred else name for name in rows]
    return {
        "windows": [_label(w) for w in windows],
        "features": labels,
        "values": values,
        "drifted": drifted,
    }


def _edges_labels(edges: list[float]) -> list[str]:
    def f(x: float) -> str:
        return f"{x:.4g}"

    if not edges:
        return ["all values"]
    labels = [f"≤ {f(edges[0])}"]
    labels += [f"{f(a)} – {f(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"> {f(edges[-1])}")
    return labels


def distribution_data(
    config: MonitoringConfig, window: MonitoringWindow, feature: str
) -> dict[str, Any] | None:
    """Bin (numeric: the reference's quantile bins) or category shares of one feature,
    reference vs window; None when the feature was not compared in that window."""
    d = (window.results or {}).get("drift") or {}
    r = (d.get("features") or {}).get(feature)
    if r is None and feature == config.drift_prediction_column:
        r = d.get("prediction")
    if not r or r.get("status") != "ok":
        return None
    if r["kind"] == "numeric":
        labels = _edges_labels(reference_edges(reference_profile_for(config), feature))
        ref, cur = r["reference_proportions"], r["current_proportions"]
        if len(labels) != len(ref):
            labels = [f"bin {i + 1}" for i in range(len(ref))]
    else:
        labels = r["categories"]
        n_ref = sum(r["reference_counts"]) or 1
        n_cur = sum(r["current_counts"]) or 1
        ref = [c / n_ref for c in r["reference_counts"]]
        cur = [c / n_cur for c in r["current_counts"]]
    return {"labels": labels, "reference": ref, "current": cur, "result": r}


def performance_data(config: MonitoringConfig, windows: list[MonitoringWindow]) -> dict[str, Any]:
    """Per metric, its value per window (None without outcomes), the floors and the
    reference's own values."""
    series: dict[str, list] = {m: [] for m in PERFORMANCE_METRICS}
    any_value = False
    for w in windows:
        overall = ((w.results or {}).get("performance") or {}).get("overall") or {}
        for m in PERFORMANCE_METRICS:
            series[m].append(overall.get(m))
            any_value |= overall.get(m) is not None
    profile = reference_profile_for(config)
    reference = ((profile.performance or {}).get("overall") or {}) if profile else {}
    return {
        "windows": [_label(w) for w in windows],
        "series": series,
        "has_values": any_value,
        "floors": dict(config.thresholds.get("performance_min") or {}),
        "reference": {m: reference[m] for m in PERFORMANCE_METRICS if reference.get(m) is not None},
    }


def window_feature_rows(window: MonitoringWindow) -> list[dict[str, Any]]:
    """The window's per-feature results as table rows (prediction last)."""
    d = (window.results or {}).get("drift") or {}
    items = list((d.get("features") or {}).values())
    if d.get("prediction"):
        items.append({**d["prediction"], "is_prediction": True})
    out = []
    for r in items:
        p = r.get("ks_pvalue", r.get("chi2_pvalue"))
        out.append(
            {
                "feature": r["feature"],
                "kind": r.get("kind") or "—",
                "status": r["status"],
                "message": r["message"],
                "psi": r.get("psi"),
                "pvalue": p,
                "effect": r.get("ks_statistic", r.get("cramers_v")),
                "drift": r.get("drift"),
                "reasons": r.get("reasons") or [],
                "is_prediction": r.get("is_prediction", False),
            }
        )
    return out
