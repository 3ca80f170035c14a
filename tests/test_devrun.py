"""The process runner of `make run` (scripts/devrun.py): a crashed worker or beat is
started again with a backoff while the web server stays up; a dead web server stops
everything; stop() ends every child."""

import contextlib
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "devrun.py"


@pytest.fixture
def devrun(monkeypatch):
    spec = importlib.util.spec_from_file_location("devrun_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "FIRST_BACKOFF", 0.05)
    monkeypatch.setattr(module, "say", lambda name, text: None)
    return module


SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


def drive(runner, until, *, limit: float = 30.0):
    """Run the runner's loop until until() is true (bounded, so a bug fails, not hangs)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        runner.pump(0.05)
        failed = runner.watch()
        if failed or until():
            return failed
    pytest.fail("the runner did not get there")


def test_a_crashing_worker_is_restarted_and_the_web_server_stays_up(devrun):
    runner = devrun.Runner({"web": SLEEPER, "worker": CRASHER, "beat": SLEEPER})
    runner.start()
    try:
        web_pid = runner.procs["web"].pid
        failed = drive(runner, lambda: runner.restarts.get("worker", 0) >= 3)
        assert failed is None
        assert runner.procs["web"].pid == web_pid and runner.procs["web"].poll() is None
        assert runner.procs["beat"].poll() is None
        # the backoff doubles between restarts
        assert runner.backoff["worker"] > devrun.FIRST_BACKOFF * 4
    finally:
        assert runner.stop()
    assert runner.alive() == []


def test_a_dead_web_server_stops_the_runner(devrun):
    runner = devrun.Runner({"web": CRASHER, "worker": SLEEPER})
    runner.start()
    try:
        failed = drive(runner, lambda: False)
        assert failed == ("web", 3)
    finally:
        assert runner.stop()
    assert runner.alive() == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gone(pid: int) -> bool:
    """Neither the process nor anything left in its session (each child leads one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        return False
    return subprocess.run(["pgrep", "-s", str(pid)], capture_output=True).returncode != 0  # noqa: S607


@pytest.mark.integration
@pytest.mark.parametrize("through_make", [True, False], ids=["make-run", "delivered-twice"])
def test_one_sigterm_stops_web_worker_and_beat_cleanly(tmp_path, through_make):
    """Issue 18: one SIGTERM to the process group of `make run` reaches the runner twice,
    directly and forwarded by make (which sends SIGTERM on to its child), and the second
    copy killed everything at once. Through make whether the copies arrive apart is a
    race (two pending SIGTERMs merge into one), so the runner alone is also given the
    group's SIGTERM and then make's copy once it is stopping."""
    if through_make and not shutil.which("make"):
        pytest.skip("make is not installed")
    port = free_port()
    argv = [sys.executable, str(SCRIPT), "--port", str(port)]
    if through_make:
        # What `make run` ends with, without its install, migrate and seed.
        (tmp_path / "Makefile").write_text(
            "run:\n\t@exec " + " ".join(shlex.quote(a) for a in argv) + "\n"
        )
        argv = ["make", "-s", "-C", str(tmp_path), "run"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "devrun-test-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "NO_COLOR": "1",
    }
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            argv,
            cwd=SCRIPT.parent.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "devrun | ready: " not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        children = re.findall(r"started (?:web|worker|beat) \(pid (\d+)\)", log_path.read_text())
        assert len(children) == 3
        os.killpg(proc.pid, signal.SIGTERM)  # one signal, to the whole process group
        if not through_make:
            while "devrun | got SIGTERM; stopping" not in log_path.read_text():
                assert time.monotonic() < deadline + 60, log_path.read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)  # the copy make would forward
        code = proc.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    out = log_path.read_text()
    assert "Second interrupt" not in out
    assert "did not stop" not in out and "devrun | all stopped" in out, out
    # make dies of the SIGTERM it got (after waiting for the runner); the runner exits 0.
    assert code == (-signal.SIGTERM if through_make else 0), out
    assert [pid for pid in children if not gone(int(pid))] == []
