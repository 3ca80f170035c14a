"""The production topology started as documented (``scripts/prodrun.py``, what ``make
prod`` runs) with ``DJANGO_DEBUG=false``: gunicorn, a heavy and a light Celery worker and
beat, on the test database and a private broker (see conftest.py), behind a pretend
proxy that says https (``DJANGO_TRUST_X_FORWARDED_PROTO``).

Checked: the probes, the login page and its collected, hashed CSS file (whitenoise), a
token and the API schema, a plain-http request redirected to https, and a round trip
through each worker: a re-classification on the light queue, a bias summary on the heavy
one, each sent without naming a queue (routed by name, as the product sends them).
"""

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files.base import ContentFile
from kombu import Exchange, Queue

from accounts.roles import Role
from fairness import services as fairness_services
from fairness.models import BiasSummary
from fairness.tasks import bias_summary_run
from governance.celery import app as celery_app
from governance.models import Classification, RiskRule
from governance.services import classification_submit
from governance.tasks import use_cases_reclassify
from tests.factories import ModelVersionFactory, UseCaseFactory, full_answers, user_with_role
from tests.integration.conftest import private_broker, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

START_TIMEOUT = 240.0  # check --deploy, migrate and collectstatic come first
STOP_TIMEOUT = 45.0
PASSWORD = "a production password 42"
QUEUES = ("heavy", "light", "celery")
HTTPS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Topology:
    """scripts/prodrun.py in a process of its own, its log in a file."""

    def __init__(self, tmp_path, media):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "prod.log"
        self.broker_url, self.options, broker_env = private_broker(tmp_path)
        # The browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for the
        # whole session; a deployment must not carry it (check --deploy refuses).
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.env = {
            **inherited,
            **broker_env,
            "DJANGO_SETTINGS_MODULE": "governance.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "integration-test-" + "k" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_TRUST_X_FORWARDED_PROTO": "true",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "DATABASE_URL": worker_database_url(),
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "DJANGO_MEDIA_ROOT": str(media),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule"),
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "2",
            "CELERY_HEAVY_CONCURRENCY": "1",
            "CELERY_LIGHT_CONCURRENCY": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if self.broker_url.startswith("redis://"):  # the shared cache, as in production
            self.env["DJANGO_CACHE_URL"] = self.broker_url.rsplit("/", 1)[0] + "/2"
        self.process = None

    def purge(self) -> None:
        """Empty the installation's queues on the private broker (other integration
        tests' follow-up tasks may wait there for a worker that never comes)."""
        with self.connection() as conn:
            for name in QUEUES:
                queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
                queue.declare()
                queue.purge()

    def connection(self):
        return celery_app.connection_for_write(self.broker_url, transport_options=self.options)

    def send(self, task, **kwargs) -> str:
        """Send as the product does: no queue named, the settings' routes decide."""
        with self.connection() as conn:
            return task.apply_async(kwargs=kwargs, connection=conn).id

    def start(self) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/prodrun.py", "--port", str(self.port)],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for(r"^prod +\| ready: ", "the web server")
        self.wait_for(r"^heavy +\|.* heavy@\S+ ready\.$", "the heavy worker")
        self.wait_for(r"^light +\|.* light@\S+ ready\.$", "the light worker")
        self.wait_for(r"^beat +\|.*beat: Starting", "beat")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # Ctrl-C: the runner stops its children
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()  # its children get SIGTERM (PR_SET_PDEATHSIG)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, what: str, *, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log(), re.MULTILINE):
                return
            if self.process.poll() is not None:
                pytest.fail(f"prodrun exited ({self.process.returncode}):\n{self.tail()}")
            time.sleep(0.2)
        pytest.fail(f"Timed out waiting for {what}:\n{self.tail()}")

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def request(self, path, *, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def task_done_by(self, task_id: str) -> str | None:
        """Which process (heavy or light) logged the task's success."""
        done = re.search(
            r"^(\w+) +\|.*\[" + re.escape(task_id) + r"\] succeeded", self.log(), re.MULTILINE
        )
        return done.group(1) if done else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def topology(transactional_db, tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media  # the test's uploads land where the workers read
    prod = Topology(tmp_path, media)
    prod.purge()
    try:
        prod.start()
        yield prod
    finally:
        prod.stop()
        with prod.connection() as conn:  # leave nothing in the private broker
            for name in QUEUES:
                Queue(name, Exchange(name), routing_key=name)(conn.default_channel).delete()


def wait_until(predicate, what: str, prod: Topology, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"Timed out waiting for {what}:\n{prod.tail()}")


def test_the_production_topology_serves_pages_api_probes_and_both_workers(
    topology, team, data_scientist, risk_officer, governance_lead
):
    prod = topology
    auditor = user_with_role(Role.AUDITOR, username="prod.auditor")
    hasher = PBKDF2PasswordHasher()  # what production settings verify with
    auditor.password = hasher.encode(PASSWORD, hasher.salt())
    auditor.save(update_fields=["password"])

    # Probes: over plain http, no session, no proxy header.
    status, _, body = prod.request("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, _, body = prod.request("/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}

    # Plain http to a page: sent to https (the header is trusted because configured).
    status, headers, _ = prod.request("/accounts/login/")
    assert status == 301 and headers["Location"].startswith("https://")

    # The login page and its CSS, collected with a hashed name and served by whitenoise.
    status, _, page = prod.request("/accounts/login/", headers=HTTPS)
    assert status == 200
    css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert css, page[:500]
    status, headers, body = prod.request(css.group(1).decode(), headers=HTTPS)
    assert status == 200 and headers["Content-Type"].startswith("text/css") and body

    # A token for the password, then the API schema.
    form = json.dumps({"username": auditor.username, "password": PASSWORD}).encode()
    status, _, body = prod.request(
        "/api/v1/auth/token/", data=form, headers={**HTTPS, "Content-Type": "application/json"}
    )
    assert status == 200, body
    token = json.loads(body)["token"]
    status, _, body = prod.request(
        "/api/schema/", headers={**HTTPS, "Authorization": f"Token {token}"}
    )
    assert status == 200 and b"openapi" in body[:200]

    # Light queue: a re-classification after a rule change.
    use_case = UseCaseFactory(name="Churn analysis", team=team)
    first = classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    condition = RiskRule.objects.get(name="Scheduled batch").conditions.get()
    condition.values = ["adhoc"]
    condition.save()
    light_id = prod.send(use_cases_reclassify, by_id=governance_lead.pk, note="prod topology")
    latest = wait_until(
        lambda: Classification.objects.filter(use_case=use_case).exclude(pk=first.pk).first(),
        "the light worker's re-classification",
        prod,
    )
    assert latest.criticality == 2
    assert wait_until(lambda: prod.task_done_by(light_id), "the light task's log", prod) == "light"

    # Heavy queue: a bias summary of a small scored file.
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    rows = ["race,sex,y,y_hat"] + [
        f"{'AB'[i % 2]},{'FM'[i % 3 % 2]},{i % 2},{int(i % 5 < 2 + i % 2)}" for i in range(400)
    ]
    dataset, _ = fairness_services.scored_dataset_upload(
        version=version,
        by=data_scientist,
        file=ContentFile(io.BytesIO("\n".join(rows).encode()).getvalue(), name="scores.csv"),
        mapping={"outcome": "y", "prediction": "y_hat", "sensitive": ["race", "sex"]},
    )
    # Checked row by row as the heavy worker does (issue 18; idempotent if it also runs).
    fairness_services.scored_dataset_validate(dataset_id=dataset.pk)
    dataset.refresh_from_db()
    assert dataset.status == "valid", dataset.error
    summary, _ = fairness_services.bias_summary_request(
        dataset=dataset, by=data_scientist, queue=lambda pk: None
    )
    heavy_id = prod.send(bias_summary_run, summary_id=summary.pk)
    done = wait_until(
        lambda: BiasSummary.objects.filter(pk=summary.pk, status="done").first(),
        "the heavy worker's bias summary",
        prod,
    )
    assert done.result["breaches"] is not None
    assert wait_until(lambda: prod.task_done_by(heavy_id), "the heavy task's log", prod) == "heavy"
