"""Approval e-mails delivered by a real Celery worker through a real SMTP server
process on loopback (aiosmtpd), exactly once even when the task is sent twice and
when the SMTP server is down at first (the task retries with backoff)."""

import mailbox
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notifications.models import Notification
from notifications.tasks import notification_send
from reviews.services import promotion as svc
from tests.factories import ModelVersionFactory, UseCaseFactory, user_with_role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """``python -m aiosmtpd`` storing every message in a Maildir."""

    def __init__(self, port: int, folder: Path):
        self.port, self.folder, self.process = port, folder, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("the SMTP server did not start")

    def messages(self) -> list:
        if not (self.folder / "new").exists() and not (self.folder / "cur").exists():
            return []
        return list(mailbox.Maildir(str(self.folder), create=False))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def smtp(tmp_path, monkeypatch):
    """An SMTP server (not started yet) and a worker environment that sends to it."""
    server = SmtpServer(free_port(), tmp_path / "mail")
    monkeypatch.setenv("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("DJANGO_EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("DJANGO_EMAIL_PORT", str(server.port))
    monkeypatch.setenv("DJANGO_EMAIL_TIMEOUT", "5")
    yield server
    server.stop()


@pytest.fixture
def mail_worker(smtp, transactional_db, request):
    assert os.environ["DJANGO_EMAIL_PORT"] == str(smtp.port)
    return request.getfixturevalue("celery_worker")


@pytest.fixture
def notification(team):
    ds = user_with_role("data-scientist", teams=[team], username="ds-int")
    signer = user_with_role("risk-officer", username="signer", email="signer@example.org")
    use_case = UseCaseFactory(team=team)
    version = ModelVersionFactory(model__use_case=use_case, authors=[ds])
    req = svc.request_create(version=version, by=ds, justification="Integration test")
    return Notification.objects.create(
        key=f"request:{req.pk}:user:{signer.pk}:approval_requested",
        kind="approval_requested",
        subject_type="reviews.promotionrequest",
        subject_id=str(req.pk),
        recipient=signer,
        email=signer.email,
        created_at=req.requested_at,
    )


def test_worker_delivers_once_even_when_sent_twice(smtp, mail_worker, notification):
    smtp.start()
    first = mail_worker.send(notification_send, notification_id=notification.pk)
    second = mail_worker.send(notification_send, notification_id=notification.pk)
    # Either may run first; exactly one of them sends.
    results = sorted([mail_worker.result_of(first), mail_worker.result_of(second)])
    assert results == ["already sent or being sent", "sent"]
    [message] = smtp.messages()
    assert message["To"] == "signer@example.org"
    assert "Sign-off requested" in message["Subject"]
    assert message.is_multipart()
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    # What to do (issue 18), from the configured sender, with the request's link.
    expected_from = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Model Governance <governance@")
    assert message["From"].startswith(expected_from)
    [text] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    body = text.get_payload(decode=True).decode()
    assert "Risk tier: " in body and "Deadline: " in body
    assert f"/reviews/requests/{notification.subject_id}/" in body
    notification.refresh_from_db()
    assert notification.sent_at is not None


def test_smtp_down_then_up_retries_and_delivers_once(smtp, mail_worker, notification):
    task_id = mail_worker.send(notification_send, notification_id=notification.pk)
    mail_worker.wait_until(
        lambda: f"[{task_id}] retry" in mail_worker.log() or "Retry in" in mail_worker.log(),
        timeout=60,
        what="the task to fail on the closed SMTP port and schedule a retry",
    )
    notification.refresh_from_db()
    assert notification.sent_at is None and notification.last_error
    smtp.start()
    mail_worker.wait_until(lambda: smtp.messages(), timeout=90, what="the retried delivery")
    time.sleep(1.0)
    assert len(smtp.messages()) == 1
    notification.refresh_from_db()
    assert notification.sent_at is not None and notification.attempts >= 2
