"""The production runner (scripts/prodrun.py, make prod): what it runs, in which order,
and that it refuses development settings."""

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


@pytest.fixture
def prodrun():
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("prodrun_test", SCRIPTS / "prodrun.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def test_the_topology_is_gunicorn_two_workers_and_one_beat(prodrun, monkeypatch):
    monkeypatch.setenv("CELERY_HEAVY_CONCURRENCY", "3")
    monkeypatch.delenv("CELERY_LIGHT_CONCURRENCY", raising=False)
    argv = prodrun.commands("py", host="10.0.0.2", port=9001, processes=list(prodrun.PROCESSES))
    assert list(argv) == ["web", "heavy", "light", "beat"]
    web = argv["web"]
    assert web[:3] == ["py", "-m", "gunicorn"]
    assert web[web.index("--config") + 1].endswith("governance/gunicorn_conf.py")
    assert web[web.index("--bind") + 1] == "10.0.0.2:9001"
    assert argv["heavy"][argv["heavy"].index("--concurrency") + 1] == "3"
    assert argv["light"][argv["light"].index("--concurrency") + 1] == "2"
    assert argv["beat"][-3:] == ["beat", "-l", "info"]


def test_one_host_may_run_a_share_of_it(prodrun):
    argv = prodrun.commands("py", host="h", port=1, processes=["heavy", "light"])
    assert list(argv) == ["heavy", "light"]
    assert prodrun.parse_processes("web, beat") == ["web", "beat"]
    with pytest.raises(Exception, match="unknown process worker"):
        prodrun.parse_processes("web,worker")


def test_migrate_then_collectstatic_before_anything_starts(prodrun):
    steps = [argv[2] for argv in prodrun.setup_steps("py", migrate=True, web=True)]
    assert steps == ["check", "migrate", "collectstatic"]
    steps = [argv[2] for argv in prodrun.setup_steps("py", migrate=False, web=False)]
    assert steps == ["check"]
    collect = prodrun.setup_steps("py", migrate=False, web=True)[-1]
    assert "--noinput" in collect


def test_it_refuses_development_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DJANGO_DEBUG"] = "true"
    done = subprocess.run(
        [sys.executable, "scripts/prodrun.py", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "DJANGO_DEBUG=false" in done.stderr and "make run" in done.stderr
    assert "started" not in done.stdout


def test_the_runner_restarts_a_named_worker(monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    try:
        import devrun
    finally:
        sys.path.remove(str(SCRIPTS))
    monkeypatch.setattr(devrun, "FIRST_BACKOFF", 0.05)
    monkeypatch.setattr(devrun, "say", lambda name, text: None)
    crasher = [sys.executable, "-c", "raise SystemExit(3)"]
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    runner = devrun.Runner({"web": sleeper, "heavy": crasher}, restartable=("heavy",))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while runner.restarts.get("heavy", 0) < 2 and time.monotonic() < deadline:
            runner.pump(0.05)
            assert runner.watch() is None
        assert runner.restarts.get("heavy", 0) >= 2
        assert runner.procs["web"].poll() is None
    finally:
        assert runner.stop()
