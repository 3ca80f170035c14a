"""Scheduled follow-ups: reminders and escalations of pending sign-offs, overdue
periodic reviews. Each e-mail is keyed, so running these twice sends nothing more."""

from django.db import transaction

from notifications.models import Notification
from reviews.selectors import promotion as sel
from reviews.services import notifications


def approvals_remind(*, reminder_days: int, escalation_days: int) -> dict:
    reminded = escalated = 0
    for request in sel.requests_waiting_since(days=reminder_days):
        with transaction.atomic():
            reminded += len(notifications.notify_signers(request, kind=Notification.Kind.REMINDER))
    for request in sel.requests_waiting_since(days=escalation_days):
        with transaction.atomic():
            escalated += len(notifications.notify_escalation(request))
    return {"reminders": reminded, "escalations": escalated}


def periodic_reviews_flag() -> dict:
    flagged = []
    for version in sel.versions_in_production():
        status = sel.review_status(version)
        if status.overdue:
            with transaction.atomic():
                notifications.notify_review_overdue(version, due=status.due)
            flagged.append(version.pk)
    return {"overdue": flagged}
