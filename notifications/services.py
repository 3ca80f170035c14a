"""The outbox: queue an e-mail about any row, send it exactly once.

Exactly once: the outbox key is unique, so queuing twice makes one row; a worker claims
a row with a conditional UPDATE before sending and marks it sent after, so two workers
(or a task that runs twice) never both send it. SMTP failures release the claim and the
task retries with backoff.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from notifications.models import Notification
from notifications.registry import renderer_for

CLAIM_TIMEOUT = timedelta(minutes=10)


def notification_queue(
    *,
    key: str,
    kind: str,
    recipient: User,
    subject: models.Model,
    context: dict | None = None,
    send: bool = True,
) -> Notification | None:
    """Create the outbox row unless it exists and send it after commit (with ``send``
    False the row only: ``notifications_flush`` sends it later). Returns the row, or
    None when the recipient has no e-mail address. The one way every part of the
    product queues an e-mail."""
    if not recipient.email:
        return None
    renderer_for(kind)  # a kind nobody renders is a bug here, not at send time
    try:
        with transaction.atomic():
            note, created = Notification.objects.get_or_create(
                key=key,
                defaults={
                    "kind": kind,
                    "subject_type": subject._meta.label_lower,
                    "subject_id": str(subject.pk),
                    "recipient": recipient,
                    "email": recipient.email,
                    "context": context or {},
                    "created_at": timezone.now(),
                },
            )
    except IntegrityError:  # a concurrent writer made it first
        return Notification.objects.get(key=key)
    if created and send:
        from notifications.jobs import enqueue
        from notifications.tasks import notification_send

        enqueue(notification_send, kwargs={"notification_id": note.pk})
    return note


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row unless it was sent, whatever it is about; raise on SMTP
    failure (the task retries). Returns what happened."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=notification_id,
        sent_at__isnull=True,
        abandoned_at__isnull=True,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "already sent or being sent"
    note = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        subject = note.subject
    except (ObjectDoesNotExist, LookupError, ValueError):
        # What it was about no longer exists: it can never be rendered, so it is set
        # aside (and kept, with the reason) instead of being retried for ever.
        Notification.objects.filter(pk=note.pk).update(
            claimed_at=None, abandoned_at=timezone.now(), last_error="Its subject no longer exists."
        )
        return "abandoned: its subject no longer exists"
    subject_line, text, html, *attachments = renderer_for(note.kind)(note, subject)
    message = EmailMultiAlternatives(
        subject=one_line(subject_line)[:250], body=text, to=[note.email]
    )
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments[0] if attachments else ():
        message.attach(filename, content, mimetype)
    try:
        message.send()
    except Exception as exc:
        Notification.objects.filter(pk=note.pk).update(claimed_at=None, last_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now(), last_error="")
    return "sent"


def one_line(text: str) -> str:
    """``text`` as one line of printable characters: a line break in a subject makes
    Django refuse the message (BadHeaderError) on every retry, so a name that carries
    one (entered before names were checked) must not stop its e-mails for good."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def notifications_unsent(*, older_than: timedelta = timedelta(minutes=5)) -> QuerySet:
    """Rows not sent yet whose task was lost or gave up (for the scheduled flush)."""
    now = timezone.now()
    due = Notification.objects.filter(
        sent_at__isnull=True, abandoned_at__isnull=True, created_at__lte=now - older_than
    )
    return due.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))


def notifications_about(subject: models.Model) -> QuerySet[Notification]:
    """Every outbox row about ``subject``, newest first."""
    return Notification.objects.filter(
        subject_type=subject._meta.label_lower, subject_id=str(subject.pk)
    )
