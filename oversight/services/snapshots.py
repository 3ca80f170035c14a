"""The daily governance snapshot and the alerts of its key risk indicators (issue 16,
Step 8). Called by beat (``oversight.tasks.governance_snapshot_daily``) and the demo."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from core import kpi_rules
from notifications.models import Notification
from notifications.services import notification_queue
from oversight.models import GovernanceSnapshot, KeyRiskIndicator
from oversight.selectors.indicators import governance_indicators


def governance_leads() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.GOVERNANCE_LEAD, is_active=True).order_by("pk")
    )


def snapshot_take(*, today: date | None = None) -> tuple[GovernanceSnapshot, bool]:
    """Take the snapshot of ``today`` unless it exists (the first of the day is kept:
    a second run writes nothing), then alert the governance leads of every KRI in
    breach (once per KRI and day: the outbox key). Returns (snapshot, created)."""
    today = today or timezone.localdate()
    snapshot = GovernanceSnapshot.objects.filter(day=today).first()
    created = False
    if snapshot is None:
        values = governance_indicators(today=today)
        try:
            with transaction.atomic():
                snapshot = GovernanceSnapshot.objects.create(
                    day=today, taken_at=timezone.now(), indicators=values
                )
                created = True
        except IntegrityError:  # a concurrent run took it first
            snapshot = GovernanceSnapshot.objects.get(day=today)
    kri_alerts_send(snapshot=snapshot)
    return snapshot, created


def kri_alerts_send(*, snapshot: GovernanceSnapshot) -> int:
    """Queue one ``KRI_BREACH`` e-mail per active KRI in breach on the snapshot and per
    active governance lead; the outbox key (KRI, day, lead) makes each exactly once.
    Returns how many KRIs are in breach."""
    breached = [
        kri
        for kri in KeyRiskIndicator.objects.filter(active=True).order_by("pk")
        if kri.level_for(snapshot.indicators.get(kri.indicator)) == kpi_rules.BREACH
    ]
    if not breached:
        return 0
    leads = governance_leads()
    day = snapshot.day.isoformat()
    with transaction.atomic():
        for kri in breached:
            for lead in leads:
                notification_queue(
                    key=f"kri:{kri.pk}:breach:{day}:user:{lead.pk}",
                    kind=Notification.Kind.KRI_BREACH,
                    recipient=lead,
                    subject=kri,
                    context={
                        "day": day,
                        "value": snapshot.indicators.get(kri.indicator),
                        "breach_level": kri.breach_level,
                    },
                )
    return len(breached)
