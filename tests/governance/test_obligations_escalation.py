"""Overdue obligations escalated by beat (issue 12): the owner first, then the
model-acceptance Accountable after a further delay, through the one outbox, each e-mail
once and audited."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail

from audit.models import AuditEvent
from governance.models import Obligation
from governance.services import obligation_waive
from governance.services.escalation import obligations_escalate
from governance.tasks import obligations_escalate as obligations_escalate_task
from notifications.models import Notification
from notifications.services import notification_send
from tests.outbox import published

DUE = dt.date(2026, 10, 1)


@pytest.fixture
def no_sends():
    """The e-mails queued (the task outbox's rows, tests/outbox.py)."""
    return lambda: published("reviews.tasks.notification_send")


@pytest.fixture
def overdue(world):
    use_case, _version = world
    ob = Obligation.objects.get(use_case=use_case, consideration__code="bias-harm-testing")
    Obligation.objects.filter(use_case=use_case).update(due_date=DUE + dt.timedelta(days=90))
    Obligation.objects.filter(pk=ob.pk).update(due_date=DUE)
    ob.refresh_from_db()
    assert ob.owner is not None
    ob.owner.email = ob.owner.email or "owner@example.org"
    ob.owner.save()
    return ob


def _notes(kind):
    return Notification.objects.filter(kind=kind)


def test_the_owner_is_told_once_when_an_obligation_is_overdue(
    overdue, django_capture_on_commit_callbacks, no_sends
):
    with django_capture_on_commit_callbacks(execute=True):
        counts = obligations_escalate(today=DUE + dt.timedelta(days=1), grace_days=0)
    assert counts == {"owners": 1, "escalations": 0}
    note = _notes(Notification.Kind.OBLIGATION_OVERDUE).get()
    assert note.recipient == overdue.owner and note.subject == overdue
    assert no_sends() == [{"notification_id": note.pk}]
    audit = AuditEvent.objects.filter(action="obligation.obligation_overdue")
    assert audit.count() == 1 and audit.get().object_id == str(overdue.pk)
    # A second run (the next beat) sends and audits nothing more.
    assert obligations_escalate(today=DUE + dt.timedelta(days=2), grace_days=0) == {
        "owners": 0,
        "escalations": 0,
    }
    assert audit.count() == 1


def test_nothing_is_sent_before_the_grace_period_ends(overdue):
    assert obligations_escalate(today=DUE + dt.timedelta(days=2), grace_days=3) == {
        "owners": 0,
        "escalations": 0,
    }
    assert not Notification.objects.exists()


def test_escalated_to_the_model_acceptance_accountable_after_the_further_delay(
    overdue, risk_officer
):
    early = obligations_escalate(today=DUE + dt.timedelta(days=7), grace_days=0, escalation_days=7)
    assert early["escalations"] == 0
    late = obligations_escalate(today=DUE + dt.timedelta(days=8), grace_days=0, escalation_days=7)
    assert late == {"owners": 0, "escalations": 1}
    note = _notes(Notification.Kind.OBLIGATION_ESCALATED).get()
    assert note.recipient == risk_officer  # Accountable for model acceptance in the RACI
    assert AuditEvent.objects.filter(action="obligation.obligation_escalated").count() == 1
    again = obligations_escalate(today=DUE + dt.timedelta(days=30), grace_days=0)
    assert again == {"owners": 0, "escalations": 0}


def test_a_waived_obligation_is_not_escalated(overdue, governance_lead):
    obligation_waive(obligation=overdue, by=governance_lead, justification="Not applicable.")
    counts = obligations_escalate(today=DUE + dt.timedelta(days=30), grace_days=0)
    assert counts == {"owners": 0, "escalations": 0}


def test_the_outbox_sends_readable_emails(overdue, risk_officer):
    obligations_escalate(today=DUE + dt.timedelta(days=20), grace_days=0, escalation_days=7)
    for note in Notification.objects.order_by("pk"):
        assert notification_send(notification_id=note.pk) == "sent"
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects[0].startswith("Escalation: obligation overdue on ")
    assert subjects[1].startswith("Overdue obligation: ")
    assert all("20 day(s) past its due date" in m.body for m in mail.outbox)


def test_the_task_runs_the_service_with_the_settings(overdue):
    with mock.patch("governance.services.escalation.timezone.localdate") as today:
        today.return_value = DUE + dt.timedelta(days=settings.OBLIGATION_ESCALATION_DAYS + 1)
        counts = obligations_escalate_task()
    assert counts == {"owners": 1, "escalations": 1}


def test_beat_schedules_the_escalation():
    entry = settings.CELERY_BEAT_SCHEDULE["escalate-overdue-obligations"]
    assert entry["task"] == "governance.tasks.obligations_escalate"
