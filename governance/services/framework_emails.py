"""E-mails of four eyes on the framework: a pending proposal is sent to every other
governance lead, with a link to its decision page, through the outbox (one e-mail per
proposal and lead, however often it is queued)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from accounts.roles import Role
from governance.models import FrameworkChange
from notifications.models import Notification
from notifications.services import notification_queue

FRAMEWORK_CHANGE_PROPOSED = Notification.Kind.FRAMEWORK_CHANGE_PROPOSED


def framework_change_reviewers(change: FrameworkChange) -> list[User]:
    """Every active governance lead but the proposer (who may decide it)."""
    return list(
        User.objects.filter(groups__name=Role.GOVERNANCE_LEAD, is_active=True)
        .exclude(pk=change.proposed_by_id)
        .distinct()
        .order_by("pk")
    )


def framework_change_notify(change: FrameworkChange) -> list[Notification]:
    """Queue the e-mail of a new proposal to every other lead (sent after commit).
    Returns the outbox rows (leads without an address get none)."""
    notes = []
    for lead in framework_change_reviewers(change):
        note = notification_queue(
            key=f"framework_change:{change.pk}:proposed:{lead.pk}",
            kind=FRAMEWORK_CHANGE_PROPOSED,
            recipient=lead,
            subject=change,
        )
        if note is not None:
            notes.append(note)
    return notes


def render_framework_change_proposed(note: Notification, subject: FrameworkChange):
    """(subject line, text, no HTML) of a pending proposal's e-mail."""
    url = settings.SITE_URL + reverse("governance:framework-change", args=[subject.pk])
    proposer = subject.proposed_by.get_full_name() or subject.proposed_by.get_username()
    status = (
        "It is still pending: it takes effect only when a governance lead other than the "
        "proposer signs its approval."
        if subject.is_pending
        else f"It has since been {subject.status}; nothing is asked of you."
    )
    return (
        f"Framework change #{subject.pk} awaits a second governance lead",
        f"{proposer} proposed: {subject.get_kind_display()}.\n\n"
        f"Reason: {subject.reason}\n\n{status}\n\n"
        f"Read the exact content and approve or reject it (your password is asked):\n{url}\n",
        None,
    )
