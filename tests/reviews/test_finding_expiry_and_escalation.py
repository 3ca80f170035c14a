"""Risk acceptance by the authority the policy names, its expiry re-opening the finding,
and the overdue escalation through the outbox (issue 16)."""

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_send
from reviews.models import Finding, FindingAcceptance, FindingEvent
from reviews.selectors.findings import findings_blocking
from reviews.services import acceptance as acceptance_svc
from reviews.services import findings as svc
from tests.reviews.signoff_world import PASSWORD


@pytest.fixture
def high(world, risk_officer):
    _, version = world
    found, _ = svc.finding_open(
        version=version, by=risk_officer, title="Income proxy for age", severity="high"
    )
    return found


def accept(finding, by, days=30, **kw):
    return acceptance_svc.finding_accept(
        finding=finding,
        by=by,
        reason="Compensating control: manual review of declines.",
        expires_on=timezone.localdate() + dt.timedelta(days=days),
        password=PASSWORD,
        **kw,
    )


def test_a_risk_officer_cannot_accept_a_high_finding_a_lead_can(
    high, risk_officer, governance_lead, client_for
):
    with pytest.raises(PermissionDenied) as refused:
        accept(high, risk_officer)
    assert "high finding accepted by a governance lead or higher" in str(refused.value)
    page = client_for(risk_officer).post(
        reverse("reviews:finding-accept", args=[high.pk]),
        {"reason": "r", "expires_on": "2099-01-01", "password": PASSWORD},
    )
    assert page.status_code == 403
    assert not FindingAcceptance.objects.exists()
    accept(high, governance_lead)
    high.refresh_from_db()
    assert high.status == "accepted"
    assert high.events.last().action == "accepted"


def test_an_acceptance_longer_than_the_policy_allows_is_refused(high, governance_lead):
    with pytest.raises(ValidationError) as refused:
        accept(high, governance_lead, days=181)  # high: 180 days at most
    assert "at most 180 days" in str(refused.value)
    assert not FindingAcceptance.objects.exists()
    assert Finding.objects.get(pk=high.pk).status == "open"


def test_a_medium_finding_is_accepted_by_a_risk_officer(world, risk_officer, governance_lead):
    _, version = world
    medium, _ = svc.finding_open(version=version, by=governance_lead, title="Stale doc")
    accept(medium, risk_officer, days=365)
    assert Finding.objects.get(pk=medium.pk).status == "accepted"


def test_an_expired_acceptance_counts_no_more_and_the_sweep_reopens(
    high, governance_lead, analyst, world, mailoutbox
):
    _, version = world
    accept(high, governance_lead, days=10)
    assert findings_blocking(version, "prod", validation=False) == []
    later = timezone.localdate() + dt.timedelta(days=11)
    with mock.patch("django.utils.timezone.localdate", return_value=later):
        # Before the sweep runs, the expired acceptance already counts for nothing.
        assert findings_blocking(version, "prod", validation=False) == [high]
        assert svc.findings_reopen_expired() == 1
        assert svc.findings_reopen_expired() == 0  # once
    high.refresh_from_db()
    assert high.status == "open"
    assert high.due_on == later + dt.timedelta(days=30)
    event = high.events.get(action="reopened")
    assert event.by is None and event.from_status == "accepted"
    note = Notification.objects.get(kind="finding_reopened")
    assert note.recipient == analyst
    assert notification_send(notification_id=note.pk) == "sent"
    assert any("acceptance expired" in m.subject for m in mailoutbox)


def test_overdue_findings_are_told_then_escalated_once(
    high, analyst, risk_officer, governance_lead, mailoutbox
):
    Finding.objects.filter(pk=high.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    first = svc.findings_escalate_overdue()
    assert first == {"told": 1, "escalated": 0}
    assert Notification.objects.filter(kind="finding_overdue", recipient=analyst).count() == 1
    Finding.objects.filter(pk=high.pk).update(due_on=timezone.localdate() - dt.timedelta(days=8))
    second = svc.findings_escalate_overdue()
    assert second["escalated"] == 1
    escalated = set(
        Notification.objects.filter(kind="finding_escalated").values_list(
            "recipient__username", flat=True
        )
    )
    # The model-acceptance Accountable (the risk officer) and the governance leads.
    assert escalated == {risk_officer.username, governance_lead.username}
    assert svc.findings_escalate_overdue()["escalated"] == 0  # once per due date
    assert FindingEvent.objects.filter(finding=high, action="escalated").count() == 1
    for pending in Notification.objects.filter(kind="finding_escalated"):
        assert notification_send(notification_id=pending.pk) == "sent"
    subjects = [m.subject for m in mailoutbox]
    assert any(s.startswith("Escalation: finding #") for s in subjects)


def test_a_verified_finding_is_not_overdue(high, analyst, risk_officer):
    svc.finding_remediate(finding=high, by=analyst, note="Fixed.")
    svc.finding_verify(finding=high, by=risk_officer, note="Checked.")
    Finding.objects.filter(pk=high.pk).update(due_on=timezone.localdate() - dt.timedelta(days=30))
    assert svc.findings_escalate_overdue() == {"told": 0, "escalated": 0}
