"""The audit mailbox's copy of each audit anchor (issue 13), through the outbox.

With ``AUDIT_ANCHOR_EMAIL`` set, every anchor ``audit.anchors`` writes is also e-mailed
to the accounts with that address (the outbox sends to accounts: give the audit
mailbox one, e.g. an auditor account), so a copy of the anchor log lives outside the
database's host. Registered in ``GovernanceConfig.ready`` (audit and notifications do
not import each other)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from core.audit_anchor import Anchor
from notifications.models import Notification
from notifications.services import notification_queue

logger = logging.getLogger(__name__)


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
