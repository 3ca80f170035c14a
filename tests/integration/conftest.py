"""A real Celery worker process for integration tests.

The ``celery_worker`` fixture starts ``celery -A governance worker --pool=solo`` with
``DJANGO_SETTINGS_MODULE=governance.settings`` (what production runs), pointed at the
*test* database and at a private broker, so that a developer's own worker cannot take
the test's tasks and the test's worker cannot take theirs:

- filesystem broker (the embedded default): a fresh folder under ``tmp_path``;
- Redis: the same server, database ``TEST_CELERY_REDIS_DB`` (default 15);
- anything else: the same broker.

In every case the worker consumes only a queue named for this test.

Every test here runs on committed data (``transactional_db``): a worker or a server in
another process has its own connection and cannot see a test's open transaction.
"""

import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from kombu import Exchange, Queue

from governance.celery import app as celery_app

WORKER_READY_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 20.0


def worker_database_url() -> str:
    """A DATABASE_URL for the database this test runs on (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.fail("A worker process cannot share an in-memory SQLite test database.")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        host = db.get("HOST") or "localhost"
        host = quote(host, safe="") if host.startswith("/") else host
        credentials = f"{user}:{password}@" if user else ""
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"
    pytest.fail(f"No worker database URL for engine {db['ENGINE']}.")


def private_broker(tmp_path: Path) -> tuple[str, dict, dict]:
    """(broker URL, transport options, environment for the worker) of a private broker."""
    url = settings.CELERY_BROKER_URL
    base_options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}))
    if url.startswith("filesystem://"):
        folder = tmp_path / "broker"
        for sub in ("out", "processed", "processing", "failed", "control"):
            (folder / sub).mkdir(parents=True)
        options = {
            **base_options,
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "processing_folder": str(folder / "processing"),
            "failed_folder": str(folder / "failed"),
            "control_folder": str(folder / "control"),
        }
        return url, options, {"CELERY_BROKER_URL": url, "CELERY_BROKER_FOLDER": str(folder)}
    if url.startswith(("redis://", "rediss://")):
        db_number = os.environ.get("TEST_CELERY_REDIS_DB", "15")
        private = urlunsplit(urlsplit(url)._replace(path=f"/{db_number}"))
        return private, base_options, {"CELERY_BROKER_URL": private}
    return url, base_options, {"CELERY_BROKER_URL": url}


@dataclass
class WorkerProcess:
    """A running worker and the broker it listens on."""

    process: subprocess.Popen
    log_path: Path
    broker_url: str
    transport_options: dict
    queue: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def connection(self):
        return celery_app.connection_for_write(
            self.broker_url, transport=self.transport, transport_options=self.transport_options
        )

    @property
    def transport(self) -> str | None:
        """The embedded broker's transport class (atomic writes), for the test's side too."""
        if self.broker_url.startswith("filesystem://"):
            return getattr(settings, "CELERY_BROKER_TRANSPORT", None)
        return None

    def publishing(self):
        """Inside the block, what the test process enqueues is published to this worker's
        broker (``notifications.jobs``)."""
        from tests.broker import app_broker

        return app_broker(self.broker_url, self.transport_options, self.transport)

    def send(self, task, **kwargs) -> str:
        """Enqueue task(**kwargs) through the broker, for this worker. Returns the task id."""
        with self.connection() as conn:
            result = task.apply_async(kwargs=kwargs, connection=conn, queue=self.queue)
        return result.id

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"The worker exited with code {self.process.returncode}:\n{self.log_tail()}"
            )

    def wait_until(self, predicate, *, timeout: float, what: str):
        """Poll predicate() until it returns something truthy; fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            self.check_alive()
            time.sleep(0.1)
        pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}:\n{self.log_tail()}")

    def result_of(self, task_id: str, *, timeout: float = 60.0):
        """Wait for the worker to log the task's outcome; return its return value."""
        done = re.compile(
            r"Task [\w.]+\[" + re.escape(task_id) + r"\] (succeeded in [\d.e-]+s: (.*)|raised .*)$",
            re.MULTILINE,
        )

        def outcome():
            return done.search(self.log())

        match = self.wait_until(outcome, timeout=timeout, what=f"task {task_id}")
        if match.group(2) is None:
            pytest.fail(f"Task {task_id} failed in the worker:\n{self.log_tail()}")
        return ast.literal_eval(match.group(2))


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real ``celery worker`` process on the test database and a private broker."""
    broker_url, transport_options, broker_env = private_broker(tmp_path)
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        **broker_env,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATABASE_URL": worker_database_url(),
        # what the worker queues (through the outbox) comes back to it
        "JOBS_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "governance",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--queues",
        queue,
        "--hostname",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(process, log_path, broker_url, transport_options, queue)
    try:
        worker.wait_until(
            lambda: re.search(r"\] \S+ ready\.$", worker.log(), re.MULTILINE),
            timeout=WORKER_READY_TIMEOUT,
            what="the worker to be ready",
        )
        yield worker
    finally:
        # SIGTERM to the main pid: a warm shutdown, as a process manager would do it.
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(WORKER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Remove the private queue and its binding (Redis keeps both after the worker).
        with contextlib.suppress(Exception), worker.connection() as conn:
            private = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
            private.declare()
            private.delete()


def run_burst(plans: list[dict], tmp_path) -> list[list]:
    """Run ``tests.integration.burst_client`` once per plan, as OS processes on the test
    database (governance.settings, a private broker), started together; returns every
    [kind, status] they got, after checking none was a 5xx."""
    _, _, broker_env = private_broker(tmp_path)
    env = {
        **os.environ,
        **broker_env,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATABASE_URL": worker_database_url(),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    go = str(tmp_path / "go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.burst_client", json.dumps(plan), go],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        open(go, "w").close()  # noqa: SIM115 - both processes start together
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for (out, err), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        results += json.loads(out.strip().splitlines()[-1])
    assert [r for r in results if r[1] >= 500] == [], outputs[0][1][-3000:]
    return results


def production_password(user, password: str) -> None:
    """Processes started on governance.settings do not have the test settings' fast
    MD5 hasher: store ``password`` as production does, for them to check."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


@pytest.fixture
def workers_with(transactional_db, settings, tmp_path):
    """workers_with(**env) -> Workers on one private broker and queue, MEDIA_ROOT in this
    test's tmp_path (stopped after). The one fixture of the worker tests."""
    from tests.integration.test_bias_worker import Workers  # the test module imports us

    settings.MEDIA_ROOT = tmp_path / "media"
    made = []

    def make(**extra_env):
        workers = Workers(tmp_path, settings.MEDIA_ROOT, {k: str(v) for k, v in extra_env.items()})
        made.append(workers)
        return workers

    yield make
    for workers in made:
        workers.stop_all()
