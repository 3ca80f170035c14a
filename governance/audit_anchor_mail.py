"""The audit mailbox's copy of each audit anchor (issue 13), through the outbox.

With ``AUDIT_ANCHOR_EMAIL`` set, every anchor ``audit.anchors`` writes is also e-mailed
to the accounts with that address (the outbox sends to accounts: give the audit
mailbox one, e.g. an auditor account), so a copy of the anchor log lives outside the
database's host. Registered in ``GovernanceConfig.ready`` (audit and notifications do
not import each other).

A scheduled anchor that fails (``audit.anchors.audit_anchor_failed``) is e-mailed the
same way to the audit mailbox and to every active governance lead."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from core.audit_anchor import Anchor
from notifications.models import Notification
from notifications.services import notification_queue

logger = logging.getLogger(__name__)

AUDIT_ANCHOR_FAILED = Notification.Kind.AUDIT_ANCHOR_FAILED


def audit_anchor_mail(anchor: Anchor) -> int:
    """Queue the anchor to the audit mailbox; returns how many e-mails were queued."""
    address = settings.AUDIT_ANCHOR_EMAIL
    if not address:
        return 0
    recipients = list(get_user_model().objects.filter(email__iexact=address, is_active=True))
    if not recipients:
        logger.warning("AUDIT_ANCHOR_EMAIL %s is no active account's address: not sent", address)
        return 0
    event = AuditEvent.objects.get(seq=anchor.seq)
    queued = 0
    for user in recipients:
        note = notification_queue(
            key=f"audit-anchor:{anchor.seq}:{anchor.at}:{user.pk}"[:200],
            kind=Notification.Kind.AUDIT_ANCHOR,
            recipient=user,
            subject=event,
            context={"line": anchor.line(), "seq": anchor.seq, "at": anchor.at},
        )
        queued += note is not None
    return queued


def render_audit_anchor(note: Notification, subject) -> tuple[str, str, None]:
    context = note.context or {}
    body = (
        f"The audit trail was anchored at {context.get('at')}: event {context.get('seq')}.\n\n"
        "Keep this e-mail. Its line, added to the anchor log, lets `manage.py audit_verify "
        "--anchor-log FILE` show that the trail was not cut or re-written since:\n\n"
        f"{context.get('line')}\n"
    )
    return f"Audit trail anchor: event {context.get('seq')}", body, None


def audit_anchor_failure_alert(event: AuditEvent) -> int:
    """Queue the alert of a failed anchor (the ``audit.anchor_failed`` event) to the
    audit mailbox's accounts and every active governance lead, one e-mail each; returns
    how many were queued."""
    people = Q(groups__name=Role.GOVERNANCE_LEAD)
    if settings.AUDIT_ANCHOR_EMAIL:
        people |= Q(email__iexact=settings.AUDIT_ANCHOR_EMAIL)
    recipients = get_user_model().objects.filter(people, is_active=True).distinct().order_by("pk")
    queued = 0
    for user in recipients:
        note = notification_queue(
            key=f"audit-anchor-failed:{event.seq}:{user.pk}",
            kind=AUDIT_ANCHOR_FAILED,
            recipient=user,
            subject=event,
            context={"reason": event.reason, "at": event.occurred_at.isoformat()},
        )
        queued += note is not None
    if not queued:
        logger.error("audit anchor failed and nobody could be e-mailed: %s", event.reason)
    return queued


def render_audit_anchor_failed(note: Notification, subject) -> tuple[str, str, None]:
    context = note.context or {}
    url = settings.SITE_URL + reverse("audit:list") + "?action=audit.anchor_failed"
    body = (
        f"The scheduled anchor of the audit trail failed at {context.get('at')}:\n\n"
        f"    {context.get('reason')}\n\n"
        "Until it is fixed, nothing outside the database shows whether the newest events "
        "of the trail were cut or re-written. A chain that no longer matches its anchors "
        "is one cause: run `manage.py audit_verify`. Otherwise check that the anchor log "
        "(AUDIT_ANCHOR_LOG) is writable and the anchor key is present, then run "
        "`manage.py audit_anchor`.\n\n"
        f"The failure in the audit trail: {url}\n"
    )
    return "Audit trail anchor FAILED", body, None
