"""A real MLflow tracking server for the registry sync tests (issue 17).

MLflow lives in a venv of its own (``.venv-mlflow``, see the Makefile's venv-mlflow and
requirements-mlflow.txt): the product talks to it over REST only. The session starts
``mlflow server`` from it on a free port with a SQLite backend and a local artifact root
(served through its artifact proxy), and ``mlflow_steps`` drives it through the MLflow
client (``mlflow_runner.py``, run as a program in that venv). Skipped when the venv is
missing, unless REQUIRE_MLFLOW=1 (CI), which turns the skip into a failure.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = Path(os.environ.get("MLFLOW_PYTHON", ROOT / ".venv-mlflow" / "bin" / "python"))
RUNNER = Path(__file__).with_name("mlflow_runner.py")
REQUIRED = os.environ.get("REQUIRE_MLFLOW") == "1"
START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


class MLflowServer:
    """A running ``mlflow server`` and the steps that drive it."""

    def __init__(self, url: str, artifacts: Path, log: Path) -> None:
        self.url = url
        self.artifacts = artifacts
        self.log = log

    def steps(self, *steps: tuple[str, dict]) -> list[dict]:
        """Run MLflow client steps (mlflow_runner.py) in MLflow's venv; their answers."""
        done = subprocess.run(
            [str(MLFLOW_PYTHON), str(RUNNER), self.url, json.dumps(steps)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"mlflow_runner failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def register(self, name: str, **args) -> dict:
        return self.steps(("register", {"name": name, **args}))[0]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    if not MLFLOW_PYTHON.exists():
        reason = (
            f"MLflow's interpreter {MLFLOW_PYTHON} does not exist: build it with "
            "`sh scripts/venv.sh .venv-mlflow requirements-mlflow.txt` (or set MLFLOW_PYTHON)"
        )
        if REQUIRED:
            pytest.fail(reason + "; REQUIRE_MLFLOW=1")
        pytest.skip(reason)
    where = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = where / "server.log"
    env = {
        **os.environ,
        # Deliver webhooks to the test's own live server, over plain HTTP on loopback.
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_CACHE_TTL": "0",
    }
    command = [
        str(MLFLOW_PYTHON.parent / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{where / 'mlflow.db'}",
        "--artifacts-destination",
        str(where / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=where,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield MLflowServer(url, where / "artifacts", log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def mlflow_settings(settings, mlflow_server):
    """The product pointed at the test's MLflow server."""
    settings.MLFLOW_TRACKING_URI = mlflow_server.url
    settings.MLFLOW_TIMEOUT_SECONDS = 30
    return settings


@pytest.fixture
def unique():
    """A name no other test of the session uses (the server is shared)."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"
