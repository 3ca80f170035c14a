"""PostgreSQL stopped and started again under a running web server (issue 13): a request
caught in the middle, and every request while it is down, gets a clear 503 with
``Retry-After`` (JSON under /api/, the product's 503 page otherwise), never a 500 or a
traceback; once it is back, the same server process answers 200 again.

The PostgreSQL server is a private one this test starts under /tmp (initdb, pg_ctl), so
stopping it disturbs neither CI's server nor other tests; the test skips, saying why,
when PostgreSQL's server programs are not installed. The web server is gunicorn with
production settings (``governance/gunicorn_conf.py``, DEBUG off) on it.

Its database is a copy of the suite's test database when that is PostgreSQL (migrated
once for the session, the data migrations' content in place: ``pg_dump | psql``, seconds)
rather than a second ``migrate`` (a minute or two on a busy 2-core machine); with SQLite
as the suite's database it is migrated as before."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from audit.db_roles import as_owner
from tests.integration.conftest import worker_database_url
from tests.integration.web_server import (
    WebServer,
    free_port,
    multipart,
    session_static_root,
    sign_in,
    start_upload,
)

pytestmark = [pytest.mark.integration]

PASSWORD = "a restart password 42"
USER = "restart.lead"


def pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class PrivatePostgres:
    """A throw-away PostgreSQL server: its own data folder and port, trust on 127.0.0.1."""

    def __init__(self, bindir: Path):
        self.bin = bindir
        self.port = free_port()
        # under /tmp with mode 755: the 'postgres' user must traverse it when we are root
        self.folder = Path(tempfile.mkdtemp(prefix="faults-pg-", dir="/tmp"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")

    def run(self, *argv, timeout=60.0) -> subprocess.CompletedProcess:
        command = [str(a) for a in argv]
        if self.as_root:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, cwd="/", capture_output=True, text=True, timeout=timeout, check=False
        )

    def check(self, done: subprocess.CompletedProcess, what: str) -> None:
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            pytest.fail(f"{what} failed: {done.stdout}\n{done.stderr}\n{log}")

    def init(self) -> None:
        self.check(
            self.run(
                self.bin / "initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8",
                "--locale=C.UTF-8", "--auth=trust",
            ),
            "initdb",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.check(
            self.run(
                self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30",
                "start", "-o", options,
            ),
            "pg_ctl start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown, as a restart does: open sessions are terminated."""
        self.check(
            self.run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"),
            "pg_ctl stop",
        )

    def running(self) -> bool:
        return self.run(self.bin / "pg_ctl", "-D", self.data, "status").returncode == 0

    def create_database(self, name: str) -> str:
        self.check(
            self.run(
                self.bin / "psql", "-X", "-q", "-h", "127.0.0.1", "-p", self.port,
                "-U", "postgres", "-d", "postgres", "-c", f"CREATE DATABASE {name}",
            ),
            "CREATE DATABASE",
        )  # fmt: skip
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, source_url: str, name: str) -> bool:
        """Load ``pg_dump`` of ``source_url`` (schema, data, triggers; no owners or
        grants: the private server has one role) into the empty database ``name``.
        False, loading nothing usable, when either program fails (e.g. a pg_dump older
        than the source server): the caller migrates instead."""
        dump = subprocess.run(
            [self.bin / "pg_dump", "--no-owner", "--no-privileges", "--dbname", source_url],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if dump.returncode != 0:
            return False
        load = subprocess.run(
            [
                self.bin / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", name,
            ],
            input=dump.stdout,
            capture_output=True,
            timeout=300,
            check=False,
        )  # fmt: skip
        return load.returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def postgres():
    bindir = pg_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as 'postgres'")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
    server = PrivatePostgres(bindir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{output}")


def copied_test_database(postgres) -> str | None:
    """The private server's ``governance`` database as a copy of the suite's migrated
    test database (PostgreSQL only; ``transactional_db`` has restored the data
    migrations' content), or None when it has to be migrated. A failed copy is dropped."""
    if connection.vendor != "postgresql":
        return None
    url = postgres.create_database("governance")
    with as_owner():  # CI: dumped as the tables' owner, who may read and lock them all
        source = worker_database_url()
    if postgres.copy_database(source, "governance"):
        return url
    postgres.check(
        postgres.run(
            postgres.bin / "psql", "-X", "-q", "-h", "127.0.0.1", "-p", postgres.port,
            "-U", "postgres", "-d", "postgres", "-c", "DROP DATABASE governance",
        ),
        "DROP DATABASE",
    )  # fmt: skip
    return None


if connection.vendor == "postgresql":

    @pytest.fixture
    def suite_database(transactional_db):
        """The suite's test database, committed, with the data migrations' content
        (``migrated_content``): the source of the copy."""

else:

    @pytest.fixture
    def suite_database():
        """SQLite: nothing to copy from, so no test database is set up for this test."""


@pytest.fixture
def web(postgres, suite_database, tmp_path, tmp_path_factory):
    url = copied_test_database(postgres)
    migrate = url is None
    if migrate:
        url = postgres.create_database("governance")
    static_root = session_static_root(tmp_path_factory)
    # the private server's one role migrates and runs: not CI's owner/application pair
    server = WebServer(
        tmp_path / "web",
        url,
        static_root,
        unset=("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_OWNER_URL", "DATABASE_APP_ROLE"),
    )
    server.folder.mkdir()
    env = {**server.env(), "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    if migrate:
        manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput", "--username", USER, "--email", "lead@example.org")
    server.start()
    yield server
    server.stop()


def assert_clear_503(response, *, api: bool) -> None:
    assert response.status == 503, (response.status, response.body[:800])
    assert response.headers.get("retry-after") == "5"
    assert b"Traceback" not in response.body and b"OperationalError" not in response.body
    if api:
        assert response.headers["content-type"].startswith("application/json")
        assert "database is not answering" in response.json()["detail"]
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert b"cannot reach its database just now" in response.body


def test_postgresql_restarted_mid_request_is_a_503_then_200_again(postgres, web):
    token_response = web.request(
        "POST",
        "/api/v1/auth/token/",
        body=f'{{"username": "{USER}", "password": "{PASSWORD}"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert token_response.status == 200, token_response.body[:300]
    api = {"Authorization": f"Token {token_response.json()['token']}", "Accept": "application/json"}
    session = {"Cookie": sign_in(web, USER, PASSWORD)}
    assert web.get("/api/v1/use-cases/", headers=api).status == 200
    assert web.get("/", headers=session).status == 200
    server_pids = web.pids()

    # A request in flight: signed in (its token checked on the database), its body still
    # arriving when PostgreSQL stops; the view then needs the database.
    content_type, body = multipart(
        {"model_version": "1", "mapping": '{"outcome": "y", "sensitive": ["g"]}'},
        "file",
        "scores.csv",
        b"g,y\n" + b"a,1\n" * 1_500_000,
    )
    sock = start_upload(
        web, "/api/v1/scored-datasets/", {**api, "Content-Type": content_type}, body
    )
    answer = bytearray()
    try:
        sock.sendall(body[: len(body) // 2])
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size for p in web.uploads.rglob("*.upload*")):
            assert time.monotonic() < deadline, web.tail()
            time.sleep(0.02)
        postgres.stop()
        sock.sendall(body[len(body) // 2 :])
        reader = threading.Thread(target=lambda: answer.extend(_read_all(sock)))
        reader.start()
        reader.join(60)
    finally:
        sock.close()
    head, _, rest = bytes(answer).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), bytes(answer)[:800]
    assert b"Retry-After: 5" in head and b"Traceback" not in rest

    # While it is down: the API and a signed-in page (session and user are loaded by
    # middleware, before any view) are 503s; the liveness probe still answers.
    assert_clear_503(web.get("/api/v1/use-cases/", headers=api), api=True)
    assert_clear_503(web.get("/", headers=session), api=False)
    assert web.get("/healthz").status == 200
    ready = web.get("/readyz")
    assert ready.status == 503 and ready.json()["failing"] == ["database"]

    # Back: the same server process answers again, without a restart.
    postgres.start()
    deadline = time.monotonic() + 30
    while (listed := web.get("/api/v1/use-cases/", headers=api)).status != 200:
        assert listed.status == 503, (listed.status, listed.body[:500])
        assert time.monotonic() < deadline, web.tail()
        time.sleep(0.2)
    assert web.get("/", headers=session).status == 200
    assert web.get("/readyz").status == 200
    assert sorted(web.pids()) == sorted(server_pids)


def _read_all(sock) -> bytes:
    sock.settimeout(60)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
