"""Issue 13: each audit anchor is e-mailed to the audit mailbox through the outbox."""

import json

import pytest
from django.core import mail

from audit.anchors import audit_anchor_record
from audit.services import audit_record
from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_anchor_is_e_mailed_to_the_audit_mailbox(settings):
    settings.AUDIT_ANCHOR_EMAIL = "audit-mailbox@example.org"
    mailbox = UserFactory(username="audit-mailbox", email="Audit-Mailbox@example.org")
    UserFactory(username="someone", email="someone@example.org")
    audit_record(action="test.step", object_type="tests.thing", object_id=1)
    anchor, _report = audit_anchor_record()
    [note] = Notification.objects.filter(kind=Notification.Kind.AUDIT_ANCHOR)
    assert note.recipient == mailbox
    assert (note.subject_type, note.subject.seq) == ("audit.auditevent", anchor.seq)
    notification_send(notification_id=note.pk)
    [message] = mail.outbox
    assert message.to == ["Audit-Mailbox@example.org"]
    assert f"event {anchor.seq}" in message.subject
    line = next(text for text in message.body.splitlines() if text.startswith("{"))
    assert json.loads(line)["mac"] == anchor.mac


def test_without_a_mailbox_nothing_is_queued(settings):
    settings.AUDIT_ANCHOR_EMAIL = ""
    audit_record(action="test.step", object_type="tests.thing", object_id=1)
    anchor, _report = audit_anchor_record()
    assert anchor is not None
    assert not Notification.objects.filter(kind=Notification.Kind.AUDIT_ANCHOR).exists()
