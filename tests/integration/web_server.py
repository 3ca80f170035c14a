"""The product's web server (gunicorn with ``governance/gunicorn_conf.py``, production
settings: ``DJANGO_DEBUG=false``) in a process group of its own, for the fault tests:
started on the test database (or another one), a private media folder, upload folder
and static folder, killed with SIGKILL, started again.

Requests go over plain sockets (``http.client``, or raw bytes for a slow upload), so
what is checked is what a client on the network gets."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

START_TIMEOUT = 60.0
SECRET = "fault-tests-" + "s" * 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collect_static(static_root: Path) -> Path:
    """``collectstatic`` into ``static_root`` with production settings (the hashed,
    compressed files a page names when DEBUG is off). Once per folder."""
    if (static_root / "staticfiles.json").exists():
        return static_root
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"collectstatic failed:\n{done.stdout}\n{done.stderr}")
    return static_root


def session_static_root(tmp_path_factory) -> Path:
    """One collected static folder for the whole test session (per test process)."""
    return collect_static(tmp_path_factory.getbasetemp() / "fault-tests-static")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    def json(self):
        return json.loads(self.body)


@dataclass
class WebServer:
    """gunicorn -c governance/gunicorn_conf.py, one process of a few threads."""

    folder: Path
    database_url: str
    static_root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    # the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for the session: no server has it
    unset: tuple[str, ...] = ("DJANGO_ALLOW_ASYNC_UNSAFE",)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def media(self) -> Path:
        return self.folder / "media"

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    @property
    def log_path(self) -> Path:
        return self.folder / "web.log"

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k not in self.unset}
        return {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "governance.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": SECRET,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DATABASE_URL": self.database_url,
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "DJANGO_MEDIA_ROOT": str(self.media),
            "DJANGO_FILE_UPLOAD_TEMP_DIR": str(self.uploads),
            # a private embedded broker unless the test names one: nothing the server
            # queues reaches a developer's or CI's broker
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_BROKER_FOLDER": str(self.folder / "broker"),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "4",
            "WEB_TIMEOUT": "120",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def start(self) -> None:
        self.media.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "governance/gunicorn_conf.py"],
                cwd=settings.BASE_DIR,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer within {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def pids(self) -> list[int]:
        """The master and its workers (the process group)."""
        if self.process is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.process.pid:
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: nothing gets to clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers=None, timeout=30.0
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            headers = resp.getheaders()
            return Response(
                resp.status,
                {k.lower(): v for k, v in headers},
                resp.read(),
                [v for k, v in headers if k.lower() == "set-cookie"],
            )
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)


def multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes):
    """(content type, body) of a multipart/form-data request with one file."""
    boundary = "----fault-test-" + os.urandom(8).hex()
    out = bytearray()
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    out += data
    out += f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def start_upload(server: WebServer, path: str, headers: dict[str, str], body: bytes):
    """Open a connection and send the request line and headers of a POST of ``body``;
    returns the socket (send the body with ``sock.sendall``)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return sock


def cookies_of(response: Response, jar: dict[str, str]) -> dict[str, str]:
    for header in response.set_cookies:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def sign_in(server: WebServer, username: str, password: str) -> str:
    """Sign in through the login form; returns the Cookie header of the session."""
    jar: dict[str, str] = {}
    page = server.get("/accounts/login/")
    assert page.status == 200, page.body[:300]
    cookies_of(page, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token, page.body[:500]
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    done = server.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
    )
    assert done.status == 302, done.body[:300]
    cookies_of(done, jar)
    assert "sessionid" in jar
    return "; ".join(f"{k}={v}" for k, v in jar.items())
