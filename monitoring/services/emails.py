"""Drift-alert e-mails through the shared outbox (``notifications``):
one per monitoring Accountable and alert, queued exactly once; their subject and text,
rendered here when the outbox sends them."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from governance.selectors.raci import raci_accountable_for
from inventory.models import ModelVersion
from monitoring.models import DriftAlert
from notifications.models import Notification
from notifications.services import notification_queue


def notify_alert(alert: DriftAlert, *, queue: bool = True) -> list[Notification]:
    """Queue one e-mail per monitoring Accountable for the alert (exactly once: the key
    is per alert and recipient), sent after commit; with ``queue`` False the outbox row
    only (the scheduled ``notifications_flush`` sends it later)."""
    config = alert.config
    use_case = config.model_version.model.use_case
    out = [
        notification_queue(
            key=f"drift-alert:{alert.pk}:user:{user.pk}",
            kind=Notification.Kind.DRIFT_ALERT,
            recipient=user,
            subject=alert,
            context={"alert": alert.pk, "message": alert.message},
            send=queue,
        )
        for user in raci_accountable_for(use_case=use_case, task_code="monitoring")
    ]
    return [n for n in out if n]


def monitoring_url(version: ModelVersion) -> str:
    return settings.SITE_URL + reverse("monitoring:monitoring", args=[version.pk])


def render_notification(note: Notification, alert: DriftAlert) -> tuple[str, str, None]:
    """Subject and text of a drift-alert e-mail (the outbox's renderer for its kind)."""
    version = alert.config.model_version
    context = {
        "note": note,
        "alert": alert,
        "version": version,
        "use_case": version.model.use_case,
        "url": monitoring_url(version),
    }
    subject = f"Monitoring alert: {alert.get_kind_display().lower()} in {alert.feature} ({version})"
    return subject, render_to_string("monitoring/email.txt", context), None
