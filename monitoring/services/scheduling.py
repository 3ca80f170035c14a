"""When windows are computed: on demand (a recompute queued after commit) and on the
schedule (``monitoring_due`` asks which configurations have a window due or new data)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.services import audit_record
from fairness.models import ScoredDataset
from monitoring.models import Cadence, MonitoringConfig
from monitoring.services.policy import can_configure, can_handle_alert
from notifications.jobs import enqueue


def monitoring_recompute_request(*, config: MonitoringConfig, by: User) -> None:
    """Queue a recomputation of every window (after commit). PermissionDenied unless
    ``by`` configures the version or handles its alerts."""
    if not (can_configure(by, config.model_version) or can_handle_alert(by, config)):
        raise PermissionDenied("You may not recompute this version's monitoring.")
    audit_record(
        action="monitoring.recompute_requested", obj=config, actor=by, parent=config.model_version
    )
    from monitoring.tasks import monitoring_compute as monitoring_compute_task

    # Committed with the request (the task outbox), published after commit.
    enqueue(monitoring_compute_task, kwargs={"config_id": config.pk})


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
        published = config.batches.filter(dataset__status=ScoredDataset.Status.VALID)
        if published.filter(received_at__gt=last).exists():
            due.append(config.pk)
            continue
        step = dt.timedelta(days=1 if config.cadence == Cadence.DAILY else 7)
        latest = config.windows.filter(cadence=config.cadence).order_by("-start").first()
        if latest is not None and latest.end + step <= now:
            due.append(config.pk)
    return due
