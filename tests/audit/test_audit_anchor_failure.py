"""Issue 13: a failed scheduled audit anchor alerts somebody. The beat task
(``audit.tasks.audit_anchor``) that cannot anchor (the log not writable, the key gone,
the chain cut since the last anchor) records an ``audit.anchor_failed`` event, e-mails
the audit mailbox and every governance lead through the outbox, and the audit trail
page says so until an anchor succeeds again."""

import pytest
from django.core import mail

from audit.anchors import FAILED_ACTION, anchor_status
from audit.models import AuditEvent
from audit.services import audit_record
from audit.tasks import audit_anchor
from audit.verification import TrailBroken
from core.audit_anchor import AnchorError
from governance.audit_anchor_mail import AUDIT_ANCHOR_FAILED
from notifications.models import Notification
from notifications.services import notification_send
from tests.db_guard_plugin import tamper_with
from tests.factories import UserFactory

# The chain-cut case tampers through the owner's connection (PostgreSQL in CI): commit.
pytestmark = pytest.mark.django_db(transaction=True)

AUDIT_PAGE = "/audit/"


@pytest.fixture(autouse=True)
def committed(transactional_db):
    """Named, so that each test starts with the data migrations' roles (conftest)."""


def record(n: int) -> list[AuditEvent]:
    for i in range(n):
        audit_record(action="test.step", object_type="tests.thing", object_id=i, reason=f"{i}")
    return list(AuditEvent.objects.order_by("seq"))


@pytest.fixture
def mailbox(settings):
    settings.AUDIT_ANCHOR_EMAIL = "audit-mailbox@example.org"
    return UserFactory(username="audit-mailbox", email="Audit-Mailbox@example.org")


def alerts() -> list[Notification]:
    return list(Notification.objects.filter(kind=AUDIT_ANCHOR_FAILED).order_by("recipient_id"))


def failed_event() -> AuditEvent:
    [event] = AuditEvent.objects.filter(action=FAILED_ACTION)
    return event


def test_an_anchor_log_that_cannot_be_written_alerts_the_mailbox_and_the_leads(
    settings, tmp_path, mailbox, governance_lead, auditor
):
    record(2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    settings.AUDIT_ANCHOR_LOG = blocker / "audit-anchors.log"
    with pytest.raises(OSError):
        audit_anchor()
    event = failed_event()
    assert event.actor_label.startswith("system:")
    assert "audit-anchors.log" in event.object_repr and event.reason.startswith(
        ("FileExistsError", "NotADirectoryError")
    )
    notes = alerts()
    assert {n.recipient for n in notes} == {mailbox, governance_lead}  # not the auditor
    assert all((n.subject_type, n.subject_id) == ("audit.auditevent", str(event.pk)) for n in notes)
    for note in notes:
        notification_send(notification_id=note.pk)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["Audit-Mailbox@example.org", governance_lead.email]
    )
    message = mail.outbox[0]
    assert message.subject == "Audit trail anchor FAILED"
    assert event.reason in message.body and "AUDIT_ANCHOR_LOG" in message.body


def test_a_missing_key_is_alerted(settings, governance_lead):
    record(2)
    assert audit_anchor().startswith("anchored seq")
    settings.AUDIT_ANCHOR_KEY_FILE.unlink()
    with pytest.raises(AnchorError):
        audit_anchor()
    # a new key is made, and the earlier anchors do not verify with it
    assert "does not verify with the anchor key" in failed_event().reason
    assert [n.recipient for n in alerts()] == [governance_lead]


def test_a_chain_cut_since_the_last_anchor_is_alerted_and_shown_until_anchored_again(
    settings, governance_lead, client_for
):
    events = record(4)
    assert audit_anchor().startswith("anchored seq")
    page = client_for(governance_lead)
    response = page.get(AUDIT_PAGE)
    assert response.status_code == 200 and b"anchor-failing" not in response.content
    tamper_with(
        "governance_auditevent",
        "DELETE FROM governance_auditevent WHERE seq >= %s",
        [events[-1].seq],
    )
    with pytest.raises(TrailBroken):
        audit_anchor()
    event = failed_event()
    assert f"seq {events[-1].seq}" in event.reason
    assert [n.recipient for n in alerts()] == [governance_lead]
    status = anchor_status()
    assert status["failing"] and status["last_failure"] == event
    response = page.get(AUDIT_PAGE)
    assert response.status_code == 200
    assert b'id="anchor-failing"' in response.content
    assert b"does not reach the anchor" in response.content


def test_the_page_stops_showing_a_failure_once_an_anchor_succeeds(
    settings, tmp_path, governance_lead, client_for
):
    record(2)
    good_log = settings.AUDIT_ANCHOR_LOG
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.AUDIT_ANCHOR_LOG = blocker / "audit-anchors.log"
    with pytest.raises(OSError):
        audit_anchor()
    page = client_for(governance_lead)
    assert b'id="anchor-failing"' in page.get(AUDIT_PAGE).content
    settings.AUDIT_ANCHOR_LOG = good_log  # fixed
    assert audit_anchor().startswith("anchored seq")
    assert not anchor_status()["failing"]
    assert b'id="anchor-failing"' not in page.get(AUDIT_PAGE).content
    assert len(alerts()) == 1  # one failure, one alert


def test_a_successful_anchor_alerts_nobody(governance_lead):
    record(1)
    audit_anchor()
    assert alerts() == []
    assert not AuditEvent.objects.filter(action=FAILED_ACTION).exists()


def test_the_failure_status_is_not_shown_to_people_outside_the_audit_trail(
    settings, tmp_path, data_scientist, client_for
):
    record(1)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.AUDIT_ANCHOR_LOG = blocker / "audit-anchors.log"
    with pytest.raises(OSError):
        audit_anchor()
    response = client_for(data_scientist).get(AUDIT_PAGE)
    assert response.status_code == 403
    assert b"anchor-failing" not in response.content
