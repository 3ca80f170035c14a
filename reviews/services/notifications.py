"""The sign-off workflow's e-mails (approval requested, reminders, escalations,
decisions, periodic reviews overdue): who gets one, and how it reads. They are queued
and sent exactly once by the outbox (``notifications``); ``render`` is registered there
for these kinds in ``ReviewsConfig.ready``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from core import promotion_rules as rules
from governance.selectors.raci import raci_accountable_for
from notifications.models import Notification
from notifications.services import notification_queue
from reviews.models import PromotionRequest
from reviews.selectors import promotion as sel

SUBJECTS = {
    Notification.Kind.APPROVAL_REQUESTED: "Sign-off requested: {what}",
    Notification.Kind.REMINDER: "Reminder: your sign-off is awaited on {what}",
    Notification.Kind.ESCALATION: "Escalation: sign-off overdue on {what}",
    Notification.Kind.DECISION: "Decision on your request: {what} was {status}",
    Notification.Kind.REVIEW_OVERDUE: "Periodic review overdue: {what}",
}


def request_url(request: PromotionRequest) -> str:
    return settings.SITE_URL + reverse("reviews:request-detail", args=[request.pk])


def notify_signers(request: PromotionRequest, *, kind: str) -> list[Notification]:
    """E-mail the people who may still sign an open slot (approval requested or a
    reminder)."""
    state = sel.request_state(request)
    people = {u.pk: u for slot in state.tally.open_slots for u in state.eligible.get(slot, [])}
    signed = {s.signature.signer_id for s in state.signatures}
    out = []
    for user in people.values():
        if user.pk in signed:
            continue
        out.append(
            notification_queue(
                key=f"request:{request.pk}:user:{user.pk}:{kind}",
                kind=kind,
                recipient=user,
                subject=request,
            )
        )
    return [n for n in out if n]


def notify_escalation(request: PromotionRequest) -> list[Notification]:
    """Tell the Accountables (the business owner who identified the use case and the
    model-acceptance Accountable) that sign-off is overdue."""
    use_case = request.model_version.model.use_case
    people = {
        u.pk: u
        for task in ("identification", "model-acceptance")
        for u in raci_accountable_for(use_case=use_case, task_code=task)
    }
    out = [
        notification_queue(
            key=f"request:{request.pk}:user:{u.pk}:escalation",
            kind=Notification.Kind.ESCALATION,
            recipient=u,
            subject=request,
        )
        for u in people.values()
    ]
    return [n for n in out if n]


def notify_requester(request: PromotionRequest) -> Notification | None:
    """Tell the requester of the decision (one message per decision)."""
    return notification_queue(
        key=f"request:{request.pk}:user:{request.requested_by_id}:decision:{request.status}",
        kind=Notification.Kind.DECISION,
        recipient=request.requested_by,
        subject=request,
        context={"status": request.status},
    )


def notify_review_overdue(version, *, due) -> list[Notification]:
    use_case = version.model.use_case
    out = [
        notification_queue(
            key=f"review:{version.pk}:due:{due.isoformat()}:user:{u.pk}",
            kind=Notification.Kind.REVIEW_OVERDUE,
            recipient=u,
            subject=version,
            context={"due": due.isoformat()},
        )
        for u in raci_accountable_for(use_case=use_case, task_code="model-acceptance")
    ]
    return [n for n in out if n]


KINDS = tuple(SUBJECTS)
# The e-mails that ask the recipient to sign: they say as what, what blocks, and by when.
ASKING = (Notification.Kind.APPROVAL_REQUESTED, Notification.Kind.REMINDER)


def what_to_do(request: PromotionRequest, recipient) -> dict:
    """What an e-mail asking ``recipient`` to sign says (issue 18): the sign-offs they
    sign as, the use case's risk tier, the blocking items open now and the deadline
    (the day the reminder goes out and the day it is escalated, from
    APPROVAL_REMINDER_DAYS and APPROVAL_ESCALATION_DAYS, UTC)."""
    state = sel.request_state(request)
    use_case = request.model_version.model.use_case
    return {
        "sign_as": [
            rules.SLOT_LABELS.get(slot, slot)
            for slot in state.tally.open_slots
            if recipient.pk in {u.pk for u in state.eligible.get(slot, [])}
        ],
        "tier": use_case.get_risk_tier_display() or "not classified",
        "blocking": [b.item.message for b in state.unwaived],
        "remind_on": request.requested_at + timedelta(days=settings.APPROVAL_REMINDER_DAYS),
        "escalate_on": request.requested_at + timedelta(days=settings.APPROVAL_ESCALATION_DAYS),
    }


def render(note: Notification, subject) -> tuple[str, str, str]:
    """(subject line, text, HTML) of a sign-off e-mail; ``subject`` is the promotion
    request, or the model version for a periodic review."""
    request = subject if isinstance(subject, PromotionRequest) else None
    version = request.model_version if request else subject
    what = (
        f"{version.model.use_case} / {version}"
        + (f" to {request.to_environment}" if request else "")
        if version
        else "a model version"
    )
    if request:
        url = request_url(request)
    else:
        url = settings.SITE_URL + reverse("reviews:periodic-reviews")
    status = request.get_status_display().lower() if request else ""
    context = {
        "note": note,
        "request": request,
        "version": version,
        "what": what,
        "url": url,
        "status": note.context.get("status", status),
        "due": note.context.get("due"),
        "recipient": note.recipient,
        **(what_to_do(request, note.recipient) if request and note.kind in ASKING else {}),
    }
    line = SUBJECTS[note.kind].format(what=what, status=context["status"])
    text = render_to_string("reviews/email/notification.txt", context)
    html = render_to_string("reviews/email/notification.html", context)
    return line, text, html
