"""Alerts: a window's breaches (input drift per feature, prediction drift, a metric under
its floor) open one ``DriftAlert`` per feature and kind while open, with a finding, an
audit event and an e-mail to the monitoring Accountable; later breaches are counted on
the open alert, each window once, so a recompute changes nothing. People acknowledge or
resolve an alert with a reason (history in append-only ``DriftAlertEvent`` rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from monitoring.models import DriftAlert, DriftAlertEvent, MonitoringConfig, MonitoringWindow
from monitoring.services.emails import notify_alert
from monitoring.services.policy import DEFAULT_PERFORMANCE_MIN_ROWS, can_handle_alert
from reviews.models import Finding
from reviews.services.findings import finding_open

_DRIFT_DETAIL_KEYS = ("psi", "ks_pvalue", "chi2_pvalue", "ks_statistic", "cramers_v")


def _breaches(config: MonitoringConfig, window: MonitoringWindow) -> list[dict]:
    """(feature, kind, message, detail) of every threshold the window breaches."""
    if window.status != MonitoringWindow.Status.OK:
        return []
    return [*_drift_breaches(window), *_performance_breaches(config, window)]


def _drift_breaches(window: MonitoringWindow) -> list[dict]:
    out = []
    d = window.results.get("drift") or {}
    for name, r in (d.get("features") or {}).items():
        if r.get("drift"):
            out.append(
                {
                    "feature": name,
                    "kind": DriftAlert.Kind.INPUT,
                    "message": f"Input drift in {name}: " + "; ".join(r["reasons"]),
                    "detail": {k: r.get(k) for k in _DRIFT_DETAIL_KEYS},
                }
            )
    pred = d.get("prediction") or {}
    if pred.get("drift"):
        out.append(
            {
                "feature": pred["feature"],
                "kind": DriftAlert.Kind.PREDICTION,
                "message": f"Prediction drift in {pred['feature']}: " + "; ".join(pred["reasons"]),
                "detail": {"psi": pred.get("psi")},
            }
        )
    return out


def _performance_breaches(config: MonitoringConfig, window: MonitoringWindow) -> list[dict]:
    out = []
    perf = window.results.get("performance") or {}
    overall = perf.get("overall") or {}
    floors = config.thresholds.get("performance_min") or {}
    min_rows = int(config.thresholds.get("performance_min_rows", DEFAULT_PERFORMANCE_MIN_ROWS))
    if overall and (overall.get("n") or 0) >= min_rows:
        for metric, floor in floors.items():
            value = overall.get(metric)
            if value is not None and value < floor:
                out.append(
                    {
                        "feature": metric,
                        "kind": DriftAlert.Kind.PERFORMANCE,
                        "message": f"{metric.replace('_', ' ').capitalize()} {value:.3f} "
                        f"is below the floor {floor:.3f} ({overall['n']:,} outcomes)",
                        "detail": {"value": value, "floor": floor},
                    }
                )
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
                active[key] = _alert_open(config, window, b, now, queue_emails=queue_emails)
                opened += 1
            else:
                _alert_breached(alert, window, b, now)
    return opened


def _alert_breached(alert: DriftAlert, window: MonitoringWindow, breach: dict, now) -> None:
    """Count a later breach on the open alert, once per window."""
    seen = alert.detail.get("windows", [])
    if window.pk in seen:
        return
    alert.detail = {**alert.detail, "windows": [*seen, window.pk], "last": breach["detail"]}
    alert.breaches = len(alert.detail["windows"])
    if alert.last_window is None or window.start >= alert.last_window.start:
        alert.last_window = window
    alert.updated_at = now
    alert.save(update_fields=["detail", "breaches", "last_window", "updated_at"])
    DriftAlertEvent.objects.create(
        alert=alert,
        action=DriftAlertEvent.Action.BREACHED,
        at=now,
        window=window,
        reason=breach["message"][:2000],
    )


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
        alert=alert,
        action=DriftAlertEvent.Action.OPENED,
        at=now,
        window=window,
        reason=alert.message[:2000],
    )
    finding, _ = finding_open(
        version=version,
        by=None,
        title=f"Monitoring: {alert.message}"[:300],
        source=Finding.Source.MONITORING,
        severity=Finding.Severity.MEDIUM,
        detail={
            "alert": alert.pk,
            "feature": alert.feature,
            "kind": alert.kind,
            "window": window.start.isoformat(),
        },
        key=f"monitoring:{config.pk}:{alert.kind}:{alert.feature}"[:200],
    )
    alert.finding = finding
    alert.save(update_fields=["finding"])
    audit_record(
        action="drift_alert.opened", obj=alert, actor=None, reason=alert.message, parent=version
    )
    notify_alert(alert, queue=queue_emails)
    return alert


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
    """Resolve an alert with a reason; a later breach opens a new one. Its finding (when
    no other alert of it is open) is marked remediated by ``by`` if ``by`` is on the
    finding's owner's side and its plan has no action left
    (``finding_remediated_by_source``); someone else from the second line verifies it
    before it stops counting."""
    alert = _alert_move(alert=alert, by=by, reason=reason, to=DriftAlert.Status.RESOLVED)
    finding = alert.finding
    if finding is not None and finding.status in (Finding.Status.OPEN, Finding.Status.PLANNED):
        from reviews.services.findings import finding_remediated_by_source

        others = DriftAlert.objects.filter(finding=finding).exclude(
            status=DriftAlert.Status.RESOLVED
        )
        if not others.exists():
            finding_remediated_by_source(
                finding=finding, by=by, note=f"Monitoring alert resolved: {reason}"
            )
    return alert
