"""Who may do what with a version's monitoring, and the policy it runs under: cadence and
drift thresholds from the use case's production-monitoring obligation, or the product
defaults, each with its source."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import Role
from core import drift, policy_rules
from core.monitoring_config import (
    DEFAULT_PERFORMANCE_MAX_DROP,
    PERFORMANCE_METRICS,
    monitoring_running_problem,
)
from governance.selectors.obligations import obligations_for_rules
from governance.selectors.raci import raci_accountable_for
from inventory.models import ModelVersion
from inventory.permissions import can_change_version
from monitoring.models import Cadence, MonitoringConfig, MonitoringWindow
from reviews.selectors.promotion import latest_approved

__all__ = [
    "CLAIM_TIMEOUT",
    "DEFAULT_CADENCE",
    "DEFAULT_PERFORMANCE_MAX_DROP",
    "DEFAULT_PERFORMANCE_MIN_ROWS",
    "MONITORING_CONSIDERATION",
    "PERFORMANCE_METRICS",
    "can_configure",
    "can_handle_alert",
    "monitoring_policy",
]

MONITORING_CONSIDERATION = "production-monitoring"
DEFAULT_CADENCE = Cadence.WEEKLY
DEFAULT_PERFORMANCE_MIN_ROWS = 30
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


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


policy_rules.register_consumer(
    "monitoring.services.policy.monitoring_policy",
    MONITORING_CONSIDERATION,
    "input_drift_cadence",
    "psi_max",
)


def monitoring_configured(version: ModelVersion, *, now: dt.datetime | None = None) -> str | None:
    """The "monitoring-config" evidence check (registered in MonitoringAppConfig.ready):
    None when the version's monitoring is configured and running, else why not.

    Running (issue 12): once the version has been in production for two periods of its
    cadence, a window with production data must have been computed that ended within
    the last two periods (``core.monitoring_config.monitoring_running_problem``); before
    that, and before production, the configuration suffices. When it entered production
    is the approval that took it there (else, not known, its registration)."""
    config = MonitoringConfig.objects.filter(model_version=version).first()
    if config is None:
        return f"version {version.version_label} has no monitoring configuration."
    in_production = version.environment == "prod"
    entered = None
    if in_production:
        approval = latest_approved(version, "prod")
        entered = approval.decided_at if approval and approval.decided_at else None
        entered = entered or version.registered_at
    latest = (
        config.windows.filter(cadence=config.cadence, status=MonitoringWindow.Status.OK, rows__gt=0)
        .order_by("-end")
        .values_list("end", flat=True)
        .first()
    )
    return monitoring_running_problem(
        label=version.version_label,
        cadence=config.cadence,
        in_production=in_production,
        entered_production=entered,
        latest_window_end=latest,
        now=now or timezone.now(),
    )


def monitoring_policy(version: ModelVersion) -> dict[str, Any]:
    """Cadence and drift thresholds for the version's use case, each with its source (the
    production-monitoring obligation, or the product defaults)."""
    use_case = version.model.use_case
    rules = obligations_for_rules(use_case=use_case, version=version).get(MONITORING_CONSIDERATION)
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
