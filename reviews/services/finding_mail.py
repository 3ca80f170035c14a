"""The findings' e-mails (issue 16): overdue (to the owner), escalated (to the use
case's model-acceptance Accountable and the governance leads), opened again when a risk
acceptance expired (to the owner). Queued by ``reviews.services.findings``, sent once by
the outbox; ``render`` is registered for these kinds in ``ReviewsConfig.ready``."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import Notification
from reviews.models import Finding

SUBJECTS = {
    Notification.Kind.FINDING_OVERDUE: "Finding overdue: #{pk} {severity} on {what}",
    Notification.Kind.FINDING_ESCALATED: "Escalation: finding #{pk} ({severity}) overdue on {what}",
    Notification.Kind.FINDING_REOPENED: "Finding open again: #{pk} on {what} (acceptance expired)",
}
KINDS = tuple(SUBJECTS)


def render(note: Notification, finding: Finding) -> tuple[str, str, str]:
    version = finding.model_version
    what = f"{version.model.use_case} / {version}"
    context = {
        "note": note,
        "finding": finding,
        "what": what,
        "due": note.context.get("due") or (finding.due_on.isoformat() if finding.due_on else ""),
        "url": settings.SITE_URL + reverse("reviews:finding-detail", args=[finding.pk]),
        "recipient": note.recipient,
    }
    line = SUBJECTS[note.kind].format(pk=finding.pk, severity=finding.severity, what=what)
    text = render_to_string("reviews/email/finding.txt", context)
    html = render_to_string("reviews/email/finding.html", context)
    return line, text, html
