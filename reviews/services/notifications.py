"""Approval e-mails: an outbox row per (subject, recipient, kind), sent by a Celery
task after the transaction commits.

Exactly once: the outbox key is unique, so queuing twice makes one row; a worker claims
a row with a conditional UPDATE before sending and marks it sent after, so two workers
(or a task that runs twice) never both send it. SMTP failures release the claim and the
task retries with backoff.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from governance.selectors.raci import raci_accountable_for
from reviews.models import Notification, PromotionRequest
from reviews.selectors import promotion as sel

CLAIM_TIMEOUT = timedelta(minutes=10)

SUBJECTS = {
    Notification.Kind.APPROVAL_REQUESTED: "Sign-off requested: {what}",
    Notification.Kind.REMINDER: "Reminder: your sign-off is awaited on {what}",
    Notification.Kind.ESCALATION: "Escalation: sign-off overdue on {what}",
    Notification.Kind.DECISION: "Decision on your request: {what} was {status}",
    Notification.Kind.REVIEW_OVERDUE: "Periodic review overdue: {what}",
}


def request_url(request: PromotionRequest) -> str:
    return settings.SITE_URL + reverse("reviews:request-detail", args=[request.pk])


def queue(
    *,
    key: str,
    kind: str,
    recipient: User,
    request=None,
    version=None,
    experiment=None,
    drift_alert=None,
    context=None,
    send: bool = True,
):
    """Create the outbox row unless it exists and send it after commit (with ``send``
    False the row only: ``notifications_flush`` sends it later). Returns the row, or
    None when the recipient has no e-mail address. The one way every part of the
    product queues an e-mail."""
    if not recipient.email:
        return None
    try:
        with transaction.atomic():
            note, created = Notification.objects.get_or_create(
                key=key,
                defaults={
                    "kind": kind,
                    "request": request,
                    "model_version": version,
                    "experiment": experiment,
                    "drift_alert": drift_alert,
                    "recipient": recipient,
                    "email": recipient.email,
                    "context": context or {},
                    "created_at": timezone.now(),
                },
            )
    except IntegrityError:  # a concurrent writer made it first
        return Notification.objects.get(key=key)
    if created and send:
        from reviews.tasks import notification_send

        transaction.on_commit(lambda: notification_send.delay(notification_id=note.pk))
    return note


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
            queue(
                key=f"request:{request.pk}:user:{user.pk}:{kind}",
                kind=kind,
                recipient=user,
                request=request,
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
        queue(
            key=f"request:{request.pk}:user:{u.pk}:escalation",
            kind=Notification.Kind.ESCALATION,
            recipient=u,
            request=request,
        )
        for u in people.values()
    ]
    return [n for n in out if n]


def notify_requester(request: PromotionRequest) -> Notification | None:
    """Tell the requester of the decision (one message per decision)."""
    return queue(
        key=f"request:{request.pk}:user:{request.requested_by_id}:decision:{request.status}",
        kind=Notification.Kind.DECISION,
        recipient=request.requested_by,
        request=request,
        context={"status": request.status},
    )


def notify_review_overdue(version, *, due) -> list[Notification]:
    use_case = version.model.use_case
    out = [
        queue(
            key=f"review:{version.pk}:due:{due.isoformat()}:user:{u.pk}",
            kind=Notification.Kind.REVIEW_OVERDUE,
            recipient=u,
            version=version,
            context={"due": due.isoformat()},
        )
        for u in raci_accountable_for(use_case=use_case, task_code="model-acceptance")
    ]
    return [n for n in out if n]


def _render(note: Notification) -> tuple[str, str, str]:
    request = note.request
    version = note.model_version or (request.model_version if request else None)
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
    }
    subject = SUBJECTS[note.kind].format(what=what, status=context["status"])
    text = render_to_string("reviews/email/notification.txt", context)
    html = render_to_string("reviews/email/notification.html", context)
    return subject, text, html


def _renderer(note: Notification):
    """(subject, text, html or None) of a row, by what it is about."""
    if note.experiment_id:
        from experiments.services import render_notification

        return render_notification
    if note.drift_alert_id:
        from monitoring.services import render_notification

        return render_notification
    return _render


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row unless it was sent, whatever it is about (sign-offs,
    experiments, drift alerts); raise on SMTP failure (the task retries). Returns what
    happened."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=notification_id,
        sent_at__isnull=True,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "already sent or being sent"
    note = Notification.objects.select_related(
        "request__model_version__model__use_case",
        "model_version__model__use_case",
        "experiment__use_case",
        "drift_alert__config__model_version__model__use_case",
        "recipient",
    ).get(pk=notification_id)
    subject, text, html = _renderer(note)(note)
    message = EmailMultiAlternatives(subject=subject[:250], body=text, to=[note.email])
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as exc:
        Notification.objects.filter(pk=note.pk).update(claimed_at=None, last_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now(), last_error="")
    return "sent"


def unsent(*, older_than: timedelta = timedelta(minutes=5)):
    return Notification.objects.filter(
        sent_at__isnull=True, created_at__lte=timezone.now() - older_than
    ).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=timezone.now() - CLAIM_TIMEOUT))
