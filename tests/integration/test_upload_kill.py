"""kill -9 of the web server in the middle of an upload (issue 13): no half row, no
orphan file in the media storage, and the spooled upload the dead process left in
``FILE_UPLOAD_TEMP_DIR`` is gone once the server is started again
(``accounts/upload_temp.py``).

The real web server (gunicorn, ``governance/gunicorn_conf.py``, DEBUG off) runs on the
test database with its own media and upload folders; a data scientist's pipeline sends
a large scored file over a plain socket, slowly; the whole process group is killed
(SIGKILL) at a point the test observes: while the body is still arriving (the server's
temporary file is growing), then once the body has arrived (the view checks only the
header and quarantines the file: issue 18), and last between storing the file in
quarantine and committing its row: the test holds the writers' lock the upload takes
before it commits (``audit/stored_files.py``), sees the stored file, kills the server, and the media
sweep (``manage.py media_sweep``) removes the orphan. Nothing is mocked in the server."""

import contextlib
import io
import json
import subprocess
import sys
import time

import pyarrow.csv as pacsv
import pytest
from django.conf import settings
from django.db import connection

from audit.models import AuditEvent
from audit.services import ADVISORY_LOCK_KEY
from fairness.models import BiasSummary, ScoredDataset
from notifications.models import JobMarker
from tests.factories import ModelVersionFactory, UseCaseFactory, api_token_for
from tests.integration.conftest import worker_database_url
from tests.integration.test_bias_worker import MAPPING, frame
from tests.integration.web_server import WebServer, multipart, session_static_root, start_upload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DATASETS = "/api/v1/scored-datasets/"
ROWS = 1_500_000  # about 20 MB of CSV: several seconds to send and to check


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    return session_static_root(tmp_path_factory)


@pytest.fixture
def server(transactional_db, tmp_path, static_root):
    # Small batches: checking every row takes long enough to be caught in the act.
    web = WebServer(
        tmp_path / "web", worker_database_url(), static_root, {"BIAS_BATCH_ROWS": "2000"}
    )
    web.folder.mkdir()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def csv_data() -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(frame(ROWS), out)
    return out.getvalue()


@pytest.fixture
def upload(team, data_scientist, csv_data):
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    content_type, body = multipart(
        {"model_version": str(version.pk), "mapping": json.dumps(MAPPING)},
        "file",
        "scores.csv",
        csv_data,
    )
    headers = {
        "Authorization": f"Token {api_token_for(data_scientist)}",
        "Content-Type": content_type,
        "Accept": "application/json",
    }
    return version, headers, body


def spooled(server: WebServer) -> list:
    """The upload files in the server's upload folder (process folders included)."""
    return [p for p in server.uploads.rglob("*.upload*") if p.is_file()]


def media_files(server: WebServer) -> list:
    return [p for p in server.media.rglob("*") if p.is_file()]


def wait_for(predicate, *, timeout: float, what: str, server: WebServer):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}:\n{server.tail()}")


def assert_nothing_stored(server: WebServer, version) -> None:
    assert not ScoredDataset.objects.filter(model_version=version).exists()
    assert not AuditEvent.objects.filter(action="scored_dataset.uploaded").exists()
    assert not BiasSummary.objects.exists()
    assert media_files(server) == []


def assert_swept_after_restart(server: WebServer, left: list) -> None:
    """What the dead process left is there until a web process starts again."""
    assert left and all(p.exists() for p in left)  # the kill really left a file
    server.start()
    assert not any(p.exists() for p in left)
    assert spooled(server) == []
    dead_folders = {p.parent for p in left}
    assert not any(folder.exists() for folder in dead_folders)


def test_kill_9_while_the_body_arrives_leaves_no_row_no_file(server, upload):
    version, headers, body = upload
    server.start()
    sock = start_upload(server, DATASETS, headers, body)
    try:
        half = len(body) // 2
        for start in range(0, half, 256 * 1024):  # slowly: a pipeline on a slow link
            sock.sendall(body[start : min(start + 256 * 1024, half)])
            time.sleep(0.01)
        # the server is receiving: its temporary file holds part of the body
        growing = wait_for(
            lambda: [p for p in spooled(server) if p.stat().st_size > 0],
            timeout=30,
            what="the server to spool the upload",
            server=server,
        )
        server.kill()
    finally:
        sock.close()
    assert all(p.stat().st_size < len(body) for p in growing)
    assert_nothing_stored(server, version)
    assert_swept_after_restart(server, growing)
    # the restarted server takes the same upload whole
    done = server.request("POST", DATASETS, body=body, headers=headers, timeout=120)
    assert done.status == 202, done.body[:500]
    [dataset] = ScoredDataset.objects.filter(model_version=version)
    assert dataset.status == "validating"  # its rows are the worker's (issue 18)
    assert dataset.file.name.startswith("scored-quarantine/")
    assert [p.name for p in media_files(server)] == [f"{dataset.sha256}.csv"]
    # Django deletes the request's temporary file when the response is closed, just
    # after the last byte reached the client: wait for it rather than race it.
    wait_for(
        lambda: spooled(server) == [],
        timeout=10,
        what="the completed upload's temporary file to be deleted",
        server=server,
    )


def test_kill_9_once_the_body_is_spooled_leaves_nothing_or_the_whole_quarantined_upload(
    server, upload, csv_data
):
    """The view no longer reads the rows (issue 18): killed once the body is spooled, it
    either stored nothing (a spooled file the next web process sweeps) or committed the
    whole upload: its row validating, its bytes in quarantine, its job queued."""
    version, headers, body = upload
    server.start()
    sock = start_upload(server, DATASETS, headers, body)
    try:
        sock.sendall(body)
        # the whole file has been received and spooled: the view is checking its rows
        full = wait_for(
            lambda: [p for p in spooled(server) if p.stat().st_size >= len(csv_data)],
            timeout=60,
            what="the whole upload to be spooled",
            server=server,
        )
        server.kill()
        sock.settimeout(5)
        try:
            answer = sock.recv(100)
        except OSError:
            answer = b""
    finally:
        sock.close()
    row = ScoredDataset.objects.filter(model_version=version).first()
    if row is None:
        assert answer == b"", f"the server answered before it was killed: {answer!r}"
        assert_nothing_stored(server, version)
        left = [p for p in full if p.exists()]
        if left:
            assert_swept_after_restart(server, left)
        return
    assert row.status == "validating" and row.file.name.startswith("scored-quarantine/")
    assert [p.relative_to(server.media).as_posix() for p in media_files(server)] == [row.file.name]
    assert JobMarker.objects.filter(task="fairness.tasks.scored_dataset_validate").exists()


@contextlib.contextmanager
def writers_lock_held():
    """Hold the writers' lock from the test's own connection: an upload that stored its
    file waits for it before its row can commit (PostgreSQL: the audit chain's advisory
    lock; SQLite: the database's write lock)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        else:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                cursor.execute("ROLLBACK")


def test_kill_9_between_storing_the_file_and_committing_the_row_leaves_an_orphan_the_sweep_removes(
    server, upload, csv_data
):
    version, headers, body = upload
    server.start()
    sock = start_upload(server, DATASETS, headers, body)
    try:
        sock.sendall(body)
        wait_for(
            lambda: [p for p in spooled(server) if p.stat().st_size >= len(csv_data)],
            timeout=60,
            what="the whole upload to be spooled",
            server=server,
        )
        # The view is checking the rows; from here its row cannot commit until the lock
        # is released, whatever the timing.
        with writers_lock_held():
            stored = wait_for(
                lambda: [p for p in media_files(server) if p.stat().st_size >= len(csv_data)],
                timeout=120,
                what="the checked file to be stored in the media folder",
                server=server,
            )
            server.kill()
    finally:
        sock.close()
    # the kill left the stored file and nothing else: no row, no event
    assert [p.name for p in stored] == [p.name for p in media_files(server)]
    assert not ScoredDataset.objects.filter(model_version=version).exists()
    assert not AuditEvent.objects.filter(action="scored_dataset.uploaded").exists()
    [orphan] = stored
    name = orphan.relative_to(server.media).as_posix()
    assert name.startswith("scored-quarantine/")
    # the sweep, as beat or an operator runs it (grace 0: the orphan is seconds old)
    env = {**server.env(), "MEDIA_SWEEP_GRACE_MINUTES": "0"}
    dry = subprocess.run(
        [sys.executable, "manage.py", "media_sweep", "--dry-run"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    assert f"Would remove {name}" in dry.stdout and orphan.exists()
    done = subprocess.run(
        [sys.executable, "manage.py", "media_sweep"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"Removed {name}" in done.stdout
    assert media_files(server) == []
    [event] = AuditEvent.objects.filter(action="media.orphans_removed")
    assert [f["name"] for f in event.changes["files"][0]] == [name]
    assert event.actor_label == "system:media_sweep"
