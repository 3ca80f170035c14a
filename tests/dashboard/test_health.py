"""/healthz and /readyz (dashboard/health.py): answered before the host check, the https
redirect, sessions and the login lockout; 503 naming the failing check, with no reason
in the answer."""

import socket

import pytest
from django.db import OperationalError
from kombu import Connection

from audit.models import AuditEvent
from dashboard import health
from governance.celery import app as celery_app


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down(monkeypatch):
    """The broker is a Redis server that is not running."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setattr(celery_app, "connection_for_write", lambda **kw: Connection(url, **kw))


def test_healthz_answers_without_touching_the_database(client):
    # No database fixture: any query would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_200_with_every_check_ok(client, db, media):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }
    # The storage probe leaves no file behind.
    assert not any(p.is_file() for p in media.rglob("*"))


def test_readyz_names_the_broker_when_it_is_down(client, db, media, broker_down):
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "failing", "storage": "ok"},
        "failing": ["broker"],
    }


def test_readyz_names_the_database_and_keeps_the_reason_to_the_log(
    client, db, media, monkeypatch, caplog
):
    def refused():
        raise OperationalError(
            'connection to server at "10.1.2.3" failed: password authentication failed '
            'for user "owner-role-7f3a"'
        )

    monkeypatch.setitem(health.CHECKS, "database", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["broker"] == "ok"
    assert b"owner-role-7f3a" not in response.content and b"10.1.2.3" not in response.content
    assert "owner-role-7f3a" in caplog.text  # the operator finds it in the log


def test_readyz_names_the_storage_when_uploads_cannot_be_written(client, db, settings, tmp_path):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = not_a_folder
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["storage"]


def test_readyz_names_every_failing_check(client, db, settings, tmp_path, broker_down):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("x")
    settings.MEDIA_ROOT = not_a_folder
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker", "storage"]


def test_probes_answer_any_host_over_http_without_a_session(client, db, media, settings):
    """A load balancer probes by address, over http, many times: no host check, no https
    redirect, no cookie, no lockout (the pages keep all of these)."""
    settings.ALLOWED_HOSTS = ["governance.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    for _ in range(30):
        for path in ("/healthz", "/readyz"):
            response = client.get(path, HTTP_HOST="10.0.0.7:8000")
            assert response.status_code == 200, (path, response.content)
            assert not response.cookies
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    page = client.get("/accounts/login/", HTTP_HOST="governance.example.org")
    assert page.status_code == 301 and page["Location"].startswith("https://")


def test_probes_refuse_other_methods_and_write_nothing(client, db, media):
    events = AuditEvent.objects.count()
    for path in ("/healthz", "/readyz"):
        response = client.post(path, {"anything": "x"})
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
    assert client.head("/readyz").status_code == 200
    assert AuditEvent.objects.count() == events


def test_probes_show_no_data(client, db, media, governance_lead):
    client.force_login(governance_lead)
    body = client.get("/readyz").content + client.get("/healthz").content
    assert b"lead" not in body and b"governance" not in body
