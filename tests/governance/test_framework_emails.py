"""Four eyes: a pending framework proposal is e-mailed to every other governance lead
through the outbox, with a link to its decision page (issue 12)."""

from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from governance import tasks
from governance.models import RiskRule
from governance.services.framework_changes import risk_rule_propose_active
from governance.services.framework_emails import FRAMEWORK_CHANGE_PROPOSED
from notifications.models import Notification
from notifications.services import notification_send
from tests.governance.four_eyes import other_lead
from tests.outbox import published

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_workers():
    with mock.patch.object(tasks.use_cases_reclassify, "delay"):
        yield


def propose(by):
    return risk_rule_propose_active(
        rule=RiskRule.objects.get(name="Customer-facing"), active=False, by=by, reason="Retire it."
    )


def test_a_proposal_is_emailed_to_every_other_lead_with_the_decision_link(
    governance_lead, risk_officer, django_capture_on_commit_callbacks
):
    lead2, lead3 = other_lead("lead2"), other_lead("lead3")
    with django_capture_on_commit_callbacks(execute=True):
        change = propose(governance_lead)
    notes = Notification.objects.filter(kind=FRAMEWORK_CHANGE_PROPOSED)
    assert {n.recipient for n in notes} == {lead2, lead3}  # not the proposer, no officer
    assert len(published("reviews.tasks.notification_send")) == 2
    for note in notes:
        assert notification_send(notification_id=note.pk) == "sent"
    message = mail.outbox[-1]
    assert reverse("governance:framework-change", args=[change.pk]) in message.body
    assert "Retire it." in message.body and f"#{change.pk}" in message.subject


def test_queuing_twice_sends_once(governance_lead):
    from governance.services.framework_emails import framework_change_notify

    other_lead()
    change = propose(governance_lead)
    framework_change_notify(change)
    assert Notification.objects.filter(kind=FRAMEWORK_CHANGE_PROPOSED).count() == 1


def test_a_decided_proposal_says_nothing_is_asked(governance_lead):
    from governance.services.framework_changes import framework_change_withdraw

    other_lead()
    change = propose(governance_lead)
    framework_change_withdraw(change=change, by=governance_lead)
    note = Notification.objects.get(kind=FRAMEWORK_CHANGE_PROPOSED)
    notification_send(notification_id=note.pk)
    assert "nothing is asked of you" in mail.outbox[-1].body


def test_the_proposal_email_is_a_named_kind_of_the_outbox(governance_lead):
    """Its kind is one of ``Notification.Kind``'s choices: the row passes its own
    validation and the admin's filter names it."""
    other_lead()
    propose(governance_lead)
    note = Notification.objects.get(kind=FRAMEWORK_CHANGE_PROPOSED)
    note.full_clean()
    assert note.get_kind_display() == "Framework change proposed"
