"""The e-mails of Step 8 (issue 16): a key risk indicator in breach (to every governance
lead, once per KRI and day) and a framework review due (once until one is signed).
Queued by ``oversight.services``, sent once by the outbox; registered in
``OversightConfig.ready``."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import Notification

KINDS = (Notification.Kind.KRI_BREACH, Notification.Kind.FRAMEWORK_REVIEW_DUE)


def render(note: Notification, subject) -> tuple[str, str, str]:
    if note.kind == Notification.Kind.KRI_BREACH:
        line = f"Key risk indicator in breach: {subject} on {note.context.get('day', '')}"
        url = settings.SITE_URL + reverse("oversight:kpis")
    else:
        days = settings.FRAMEWORK_REVIEW_INTERVAL_DAYS
        line = f"Framework review due: no review was signed in the last {days} days"
        url = settings.SITE_URL + reverse("oversight:reviews")
    context = {
        "note": note,
        "subject": subject,
        "url": url,
        "recipient": note.recipient,
        "interval_days": settings.FRAMEWORK_REVIEW_INTERVAL_DAYS,
    }
    text = render_to_string("oversight/email/oversight.txt", context)
    html = render_to_string("oversight/email/oversight.html", context)
    return line, text, html
