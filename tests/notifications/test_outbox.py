"""The outbox is generic: any app queues an e-mail about any of its rows, renders it
through the renderer it registered for the kind, and it is sent exactly once."""

import datetime
from unittest import mock

import pytest
from django.core import mail

from notifications import registry
from notifications.models import Notification
from notifications.services import (
    notification_queue,
    notification_send,
    notifications_about,
    notifications_unsent,
)
from tests.factories import TeamFactory, user_with_role
from tests.outbox import published

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipient():
    return user_with_role("risk-officer", username="reader", email="reader@example.org")


@pytest.fixture
def team_subject():
    return TeamFactory(name="Pricing", slug="pricing")


@pytest.fixture
def renderer(monkeypatch):
    """A renderer for one kind, recording what it was given."""
    seen = []

    def render(note, subject):
        seen.append((note.pk, subject))
        return f"About {subject}", f"Hello {note.recipient.username}", "<p>Hello</p>"

    monkeypatch.setitem(registry._renderers, "drift_alert", render)
    return seen


def test_an_e_mail_about_any_row_is_rendered_with_its_subject(recipient, team_subject, renderer):
    with mock.patch("notifications.tasks.notification_send.delay"):
        note = notification_queue(
            key="k1", kind="drift_alert", recipient=recipient, subject=team_subject
        )
    assert (note.subject_type, note.subject_id) == ("inventory.team", str(team_subject.pk))
    assert note.subject == team_subject
    assert list(notifications_about(team_subject)) == [note]

    assert notification_send(notification_id=note.pk) == "sent"
    assert renderer == [(note.pk, team_subject)]
    [message] = mail.outbox
    assert message.subject == "About Pricing" and message.to == ["reader@example.org"]
    assert message.alternatives[0].content == "<p>Hello</p>"
    # Sent once, whatever runs again.
    assert notification_send(notification_id=note.pk) == "already sent or being sent"
    assert len(mail.outbox) == 1
    assert not notifications_unsent(older_than=datetime.timedelta(0)).exists()


def test_queuing_twice_makes_one_row_and_sends_after_commit_once(
    recipient, team_subject, renderer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_queue(
            key="k2", kind="drift_alert", recipient=recipient, subject=team_subject
        )
        again = notification_queue(
            key="k2", kind="drift_alert", recipient=recipient, subject=team_subject
        )
    assert first.pk == again.pk and Notification.objects.count() == 1
    assert published("reviews.tasks.notification_send") == [{"notification_id": first.pk}]


def test_a_kind_nobody_renders_is_refused_before_anything_is_written(recipient, team_subject):
    with pytest.raises(KeyError, match="No renderer is registered for e-mails of kind 'nope'"):
        notification_queue(key="k3", kind="nope", recipient=recipient, subject=team_subject)
    assert not Notification.objects.exists()


def test_a_recipient_without_an_address_gets_nothing(team_subject, renderer):
    nobody = user_with_role("auditor", username="no-mail", email="")
    assert (
        notification_queue(key="k4", kind="drift_alert", recipient=nobody, subject=team_subject)
        is None
    )
    assert not Notification.objects.exists()


def test_every_kind_has_a_renderer():
    """Each app registers the kinds it sends (AppConfig.ready): none is left out."""
    for kind in Notification.Kind.values:
        assert callable(registry.renderer_for(kind)), kind


def test_an_e_mail_whose_subject_is_gone_is_set_aside_not_retried(recipient, renderer):
    subject = TeamFactory(name="Short-lived", slug="short-lived")
    with mock.patch("notifications.tasks.notification_send.delay"):
        note = notification_queue(
            key="k5", kind="drift_alert", recipient=recipient, subject=subject
        )
    Notification.objects.filter(pk=note.pk).update(subject_id="999999")  # the row is gone
    assert notification_send(notification_id=note.pk) == "abandoned: its subject no longer exists"
    note.refresh_from_db()
    assert note.abandoned_at and note.sent_at is None and note.claimed_at is None
    assert note.last_error == "Its subject no longer exists."
    assert renderer == [] and mail.outbox == []
    # Neither the flush nor a second task picks it up again.
    assert not notifications_unsent(older_than=datetime.timedelta(0)).filter(pk=note.pk).exists()
    assert notification_send(notification_id=note.pk) == "already sent or being sent"


def test_every_kind_with_a_renderer_is_a_named_kind():
    """An app that registers a renderer for a kind the outbox does not name would queue
    rows that fail their own validation (the framework proposals' e-mail did)."""
    kinds = set(registry._renderers)
    assert kinds
    assert kinds <= set(Notification.Kind.values), kinds - set(Notification.Kind.values)
