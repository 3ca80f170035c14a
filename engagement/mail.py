"""The e-mails of Step 7 (issue 16): an attestation requested, a reminder (due soon or
lapsed), the lapsed people escalated to the governance leads, and training due or
lapsed. Queued by ``engagement.services``, sent once by the outbox; ``render`` is
registered for these kinds in ``EngagementConfig.ready``."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from engagement.models import AttestationCampaign, TrainingModule
from notifications.models import Notification

Kind = Notification.Kind
SUBJECTS = {
    Kind.ATTESTATION_REQUESTED: "Please acknowledge: {title} (by {due})",
    Kind.ATTESTATION_REMINDER: "Reminder: acknowledge {title} (due {due})",
    Kind.ATTESTATION_ESCALATED: "Attestations lapsed: {title} (due {due})",
    Kind.TRAINING_DUE: "Training {state}: {title} ({due})",
}
KINDS = tuple(SUBJECTS)
STATE_WORDS = {"due": "due", "lapsed": "lapsed", "done": "expiring"}


def render(note: Notification, subject) -> tuple[str, str, str]:
    due = note.context.get("due", "")
    if isinstance(subject, AttestationCampaign):
        url = settings.SITE_URL + reverse("engagement:campaign-detail", args=[subject.pk])
    else:
        assert isinstance(subject, TrainingModule)
        url = settings.SITE_URL + reverse("engagement:module-detail", args=[subject.code])
    state = STATE_WORDS.get(note.context.get("state", ""), "due")
    context = {
        "note": note,
        "subject": subject,
        "due": due,
        "state": state,
        "lapsed": note.context.get("lapsed", False),
        "people": note.context.get("people", []),
        "url": url,
        "recipient": note.recipient,
    }
    line = SUBJECTS[note.kind].format(title=subject.title, due=due, state=state)
    text = render_to_string("engagement/email/engagement.txt", context)
    html = render_to_string("engagement/email/engagement.html", context)
    return line, text, html
