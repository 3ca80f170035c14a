"""Approval e-mails: queued after commit, HTML and plain text, exactly once per
(request, recipient, kind) even when the task runs twice or SMTP fails first;
reminders and escalations on schedule; the link opens the request after log-in."""

import datetime
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from notifications.services import CLAIM_TIMEOUT, notification_send, notifications_about
from reviews.models import PromotionRequest
from reviews.services import notifications
from reviews.services import promotion as svc
from reviews.services.reminders import approvals_remind, periodic_reviews_flag
from tests.outbox import published, queued
from tests.reviews.signoff_world import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_made(world, data_scientist, django_capture_on_commit_callbacks):
    use_case, version = world
    with django_capture_on_commit_callbacks(execute=True):
        req = svc.request_create(version=version, by=data_scientist, justification="QA")
    return req, lambda: published("reviews.tasks.notification_send")


def test_signers_are_emailed_after_commit(request_made, risk_officer, approver):
    req, delay = request_made
    notes = notifications_about(req).filter(kind="approval_requested")
    assert {n.recipient for n in notes} == {risk_officer, approver}
    assert {c["notification_id"] for c in delay()} == {n.pk for n in notes}
    assert len(delay()) == 2


def test_nothing_is_queued_when_the_transaction_rolls_back(world, data_scientist):
    from django.db import transaction

    use_case, version = world
    with pytest.raises(RuntimeError), transaction.atomic():
        svc.request_create(version=version, by=data_scientist, justification="QA")
        raise RuntimeError("rolled back")
    assert queued("reviews.tasks.notification_send") == []
    assert not Notification.objects.exists()


def test_message_is_html_and_text_with_the_link(request_made, risk_officer, settings):
    req, _ = request_made
    settings.SITE_URL = "https://governance.example.org"
    note = notifications_about(req).get(recipient=risk_officer)
    assert notification_send(notification_id=note.pk) == "sent"
    [message] = mail.outbox
    assert message.to == [risk_officer.email]
    assert "Sign-off requested" in message.subject
    link = f"https://governance.example.org/reviews/requests/{req.pk}/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_exactly_once_when_the_task_runs_twice(request_made, risk_officer):
    req, _ = request_made
    note = notifications_about(req).get(recipient=risk_officer)
    assert notification_send(notification_id=note.pk) == "sent"
    assert notification_send(notification_id=note.pk) == "already sent or being sent"
    assert len(mail.outbox) == 1
    # Queuing the same (request, recipient, kind) again makes no second row.
    notifications.notify_signers(req, kind="approval_requested")
    assert notifications_about(req).filter(recipient=risk_officer).count() == 1


def test_smtp_failure_releases_the_claim_and_the_retry_sends_once(request_made, risk_officer):
    req, _ = request_made
    note = notifications_about(req).get(recipient=risk_officer)
    failing = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("connection lost"),
    )
    with failing, pytest.raises(smtplib.SMTPServerDisconnected):
        notification_send(notification_id=note.pk)
    note.refresh_from_db()
    assert note.sent_at is None and note.claimed_at is None
    assert "connection lost" in note.last_error and note.attempts == 1
    assert notification_send(notification_id=note.pk) == "sent"
    assert notification_send(notification_id=note.pk) != "sent"
    note.refresh_from_db()
    assert note.sent_at is not None and note.attempts == 2
    assert len(mail.outbox) == 1


def test_the_task_retries_smtp_errors_with_backoff():
    from notifications.tasks import notification_send

    assert smtplib.SMTPException in notification_send.autoretry_for
    assert OSError in notification_send.autoretry_for
    assert notification_send.retry_backoff and notification_send.max_retries >= 5


def test_a_claim_held_by_a_live_worker_is_respected(request_made, risk_officer):
    req, _ = request_made
    note = notifications_about(req).get(recipient=risk_officer)
    Notification.objects.filter(pk=note.pk).update(claimed_at=timezone.now())
    assert notification_send(notification_id=note.pk) != "sent"
    # A claim older than the timeout belongs to a worker that died: taken over.
    Notification.objects.filter(pk=note.pk).update(
        claimed_at=timezone.now() - CLAIM_TIMEOUT - datetime.timedelta(seconds=1)
    )
    assert notification_send(notification_id=note.pk) == "sent"
    assert len(mail.outbox) == 1


def test_reminders_then_escalation_each_once(request_made, risk_officer, approver, business_owner):
    req, _ = request_made
    with mock.patch("notifications.tasks.notification_send.delay"):
        assert approvals_remind(reminder_days=3, escalation_days=7) == {
            "reminders": 0,
            "escalations": 0,
        }
        PromotionRequest.objects.filter(pk=req.pk).update(
            requested_at=timezone.now() - datetime.timedelta(days=4)
        )
        approvals_remind(reminder_days=3, escalation_days=7)
        approvals_remind(reminder_days=3, escalation_days=7)
        reminders = notifications_about(req).filter(kind="reminder")
        assert {n.recipient for n in reminders} == {risk_officer, approver}
        assert reminders.count() == 2
        assert not Notification.objects.filter(kind="escalation").exists()
        PromotionRequest.objects.filter(pk=req.pk).update(
            requested_at=timezone.now() - datetime.timedelta(days=8)
        )
        approvals_remind(reminder_days=3, escalation_days=7)
        approvals_remind(reminder_days=3, escalation_days=7)
    escalations = notifications_about(req).filter(kind="escalation")
    # The business owner (identification Accountable) and the model-acceptance Accountable.
    assert {n.recipient for n in escalations} == {business_owner, risk_officer}


def test_signers_who_signed_get_no_reminder(request_made, risk_officer, approver):
    req, _ = request_made
    svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning="approved")
    PromotionRequest.objects.filter(pk=req.pk).update(
        requested_at=timezone.now() - datetime.timedelta(days=4)
    )
    with mock.patch("notifications.tasks.notification_send.delay"):
        approvals_remind(reminder_days=3, escalation_days=7)
    assert {n.recipient for n in Notification.objects.filter(kind="reminder")} == {approver}


def test_requester_is_told_of_the_decision(request_made, risk_officer, approver, data_scientist):
    req, _ = request_made
    with mock.patch("notifications.tasks.notification_send.delay"):
        svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning="approved")
        svc.request_sign(request=req, by=approver, password=PASSWORD, meaning="approved")
    decision = Notification.objects.get(kind="decision")
    assert decision.recipient == data_scientist and decision.context == {"status": "approved"}
    notification_send(notification_id=decision.pk)
    assert "was approved" in mail.outbox[0].subject


def test_overdue_periodic_review_emails_the_accountable_once(
    request_made, risk_officer, approver, settings
):
    from inventory.services import model_version_move

    req, _ = request_made
    with mock.patch("notifications.tasks.notification_send.delay"):
        svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning="approved")
        svc.request_sign(request=req, by=approver, password=PASSWORD, meaning="approved")
        model_version_move(version=req.model_version, to_environment="prod")
        PromotionRequest.objects.filter(pk=req.pk).update(
            to_environment="prod", decided_at=timezone.now() - datetime.timedelta(days=200)
        )
        first = periodic_reviews_flag()
        periodic_reviews_flag()
    assert first == {"overdue": [req.model_version_id]}
    [note] = Notification.objects.filter(kind="review_overdue")
    assert note.recipient == risk_officer


def test_the_email_link_opens_the_request_after_login(request_made, client, risk_officer):
    req, _ = request_made
    url = f"/reviews/requests/{req.pk}/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(risk_officer)
    assert client.get(url).status_code == 200
    req.refresh_from_db()
    assert req.status == "pending"


def test_a_line_break_in_the_use_case_name_does_not_stop_its_emails(
    request_made, risk_officer, world
):
    # issue 13: a CR/LF in the name made Django refuse the subject on every retry. Names
    # are refused with one now; a row written before (here directly) still gets mail.
    use_case, _ = world
    type(use_case).objects.filter(pk=use_case.pk).update(name="Churn\r\nBcc: x@example.org")
    req, _ = request_made
    note = notifications_about(req).get(recipient=risk_officer)
    assert notification_send(notification_id=note.pk) == "sent"
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "Churn Bcc: x@example.org" in message.subject
    assert message.to == [risk_officer.email]


def test_the_approval_email_says_what_to_do(request_made, risk_officer, approver, client, settings):
    """Issue 18: the sign-off e-mail names the sign-off the recipient signs as, the risk
    tier, the blocking items open now, the reminder and escalation dates and a link
    built from SITE_URL that opens the request, from the configured sender."""
    from reviews.services import findings as findings_svc

    req, _ = request_made
    settings.SITE_URL = "http://127.0.0.1:8123"
    settings.DEFAULT_FROM_EMAIL = "Model Governance <governance@example.org>"
    settings.APPROVAL_REMINDER_DAYS, settings.APPROVAL_ESCALATION_DAYS = 2, 5
    finding, _ = findings_svc.finding_open(
        version=req.model_version, by=risk_officer, title="Calibration drifts above 0.7"
    )
    for person in (risk_officer, approver):
        note = notifications_about(req).get(recipient=person, kind="approval_requested")
        assert notification_send(notification_id=note.pk) == "sent"
    by_person = {m.to[0]: m for m in mail.outbox}
    remind_on = (req.requested_at + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
    escalate_on = (req.requested_at + datetime.timedelta(days=5)).strftime("%Y-%m-%d")
    link = f"http://127.0.0.1:8123/reviews/requests/{req.pk}/"
    for person, slot in ((risk_officer, "Model acceptance"), (approver, "Deployments")):
        message = by_person[person.email]
        assert message.from_email == "Model Governance <governance@example.org>"
        html = message.alternatives[0][0]
        for body in (message.body, html):
            assert f"as {slot} (Accountable)" in body.replace("<strong>", "").replace(
                "</strong>", ""
            )
            assert "Risk tier: " in body and "High" in body
            assert "Calibration drifts above 0.7" in body
            assert remind_on in body and escalate_on in body
            assert link in body
    assert "as Deployments" not in by_person[risk_officer.email].body
    client.force_login(approver)
    assert client.get(link.removeprefix(settings.SITE_URL)).status_code == 200


def test_the_from_address_comes_from_the_environment(monkeypatch):
    import importlib

    import governance.settings as project_settings

    monkeypatch.setenv("DJANGO_DEFAULT_FROM_EMAIL", "Risk Office <risk@example.org>")
    assert importlib.reload(project_settings).DEFAULT_FROM_EMAIL == (
        "Risk Office <risk@example.org>"
    )
    monkeypatch.delenv("DJANGO_DEFAULT_FROM_EMAIL")
    assert "<governance@" in importlib.reload(project_settings).DEFAULT_FROM_EMAIL
