"""The process runner of `make run` (scripts/devrun.py): a crashed worker or beat is
started again with a backoff while the web server stays up; a dead web server stops
everything; stop() ends every child."""

import importlib.util
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
