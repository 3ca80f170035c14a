#!/usr/bin/env python3
"""Run the web server, a Celery worker and Celery beat together, for development.

    python scripts/devrun.py [--host 127.0.0.1] [--port 8000] [--mlflow]

`make run` calls this after installing, migrating and seeding. With --mlflow (`make
run-mlflow`), a local MLflow tracking server from .venv-mlflow is started first, on a
free port from MLFLOW_PORT (5000) with its data under var/mlflow/, the demo registry is
loaded into it and synced (`seed_demo --mlflow-only`), and the others run with
MLFLOW_TRACKING_URI pointing at it. Each child's output is
printed with its name in front. Ctrl-C (or SIGTERM) sends SIGTERM to each child's main
process, which lets the Celery worker finish its running task (a warm shutdown takes
4-9 s), and waits up to STOP_TIMEOUT seconds before killing what is left; a second
Ctrl-C kills at once (a repeated SIGTERM does not: it is the same request). A worker or
beat that dies on its own is started again after a backoff (1 s, doubling up to
MAX_BACKOFF, back to 1 s once it has run for STABLE_AFTER seconds): the dashboard stays
up and the broker hands the dead worker's message to the new one. If the web server
dies, the others are stopped and this exits non-zero.

Standard library only, so that it runs before anything else is set up.
"""

import argparse
import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLFLOW_BIN = ROOT / ".venv-mlflow" / "bin" / "mlflow"
MLFLOW_DIR = ROOT / "var" / "mlflow"
MLFLOW_START_TIMEOUT = 180.0
STOP_TIMEOUT = 20.0
RESTARTABLE = ("worker", "beat")
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0

DEMO_PASSWORD = "governance-demo"  # noqa: S105 - the seeded demo users' shared password
DEMO_USERS = [
    ("Risk officer", "risk.officer"),
    ("Governance lead", "governance.lead"),
    ("Data scientist", "data.scientist"),
    ("Approver", "approver"),
    ("Auditor", "auditor"),
    ("Validator", "model.validator"),
    ("Second governance lead (four eyes)", "ethics.lead"),
]

COLOURS = {
    "web": "\033[36m",
    "worker": "\033[35m",
    "heavy": "\033[35m",
    "light": "\033[34m",
    "beat": "\033[33m",
    "mlflow": "\033[32m",
    "devrun": "\033[1m",
    "prod": "\033[1m",
}
RESET = "\033[0m"
USE_COLOUR = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def say(name: str, text: str) -> None:
    prefix = f"{name:<6} | "
    if USE_COLOUR:
        prefix = f"{COLOURS.get(name, '')}{prefix}{RESET}"
    try:
        sys.stdout.write(prefix + text.rstrip("\r\n") + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # Whoever read our output is gone (e.g. `make run | tee` after Ctrl-C): carry on
        # quietly so that the children are still stopped properly.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115


def banner(url: str) -> None:
    lines = [
        "",
        "ML model governance dashboard",
        f"  Dashboard:  {url}",
        f"  API docs:   {url}api/docs/",
        f"  Admin:      {url}admin/",
        "",
        f"  Demo log-ins (password for all: {DEMO_PASSWORD}):",
        *(f"    {role:<16} {username}" for role, username in DEMO_USERS),
        "",
        "  Starting web server, Celery worker and Celery beat; Ctrl-C stops all three.",
        "",
    ]
    print("\n".join(lines), flush=True)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _pdeathsig():
    """Return a pre-exec hook that makes a child get SIGTERM if this runner dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None

    def hook() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


class Runner:
    """Runs named commands; restarts those named in ``restartable`` when they die."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        restartable: tuple[str, ...] = RESTARTABLE,
        label: str = "devrun",
    ) -> None:
        self.commands = commands
        self.restartable = restartable
        self.label = label  # the name this runner's own lines are printed under
        self.procs: dict[str, subprocess.Popen] = {}
        self.partial: dict[str, bytes] = {}
        self.selector = selectors.DefaultSelector()
        self.stop_signal: int | None = None
        self.started_at: dict[str, float] = {}
        self.restart_at: dict[str, float] = {}  # name -> when to start it again
        self.backoff: dict[str, float] = {}
        self.restarts: dict[str, int] = {}

    def on_signal(self, signum, _frame) -> None:
        """The first signal asks for a clean stop; a Ctrl-C (SIGINT) while stopping kills
        everything at once. A SIGTERM or SIGHUP never does: one SIGTERM often arrives
        twice (`kill` of make's process group reaches this runner directly and again
        through make, which forwards SIGTERM to its child), and the clean stop is
        bounded by STOP_TIMEOUT anyway."""
        if self.stop_signal is None:
            self.stop_signal = signum
        elif signum == signal.SIGINT:
            say(self.label, "Second interrupt: killing everything now.")
            self.kill_all()

    def start(self) -> None:
        for name in self.commands:
            if name not in self.procs:
                self.spawn(name)

    def spawn(self, name: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
        argv = self.commands[name]
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built above
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own session: a terminal's Ctrl-C reaches only this runner, which then
            # stops each child in order (SIGTERM to the worker's main pid, not its pool).
            start_new_session=True,
            preexec_fn=_pdeathsig(),
        )
        self.procs[name] = proc
        self.started_at[name] = time.monotonic()
        self.partial[name] = b""
        os.set_blocking(proc.stdout.fileno(), False)
        self.selector.register(proc.stdout, selectors.EVENT_READ, name)
        say(self.label, f"started {name} (pid {proc.pid}): {' '.join(argv[1:])}")

    def watch(self) -> tuple[str, int] | None:
        """Restart a dead worker or beat after its backoff; (name, code) if the web died."""
        now = time.monotonic()
        for name, proc in list(self.procs.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self.spawn(name)
                continue
            code = proc.poll()
            if code is None:
                continue
            if name not in self.restartable:
                return name, code
            if now - self.started_at[name] >= STABLE_AFTER:
                self.backoff[name] = FIRST_BACKOFF
            delay = self.backoff.get(name, FIRST_BACKOFF)
            self.backoff[name] = min(delay * 2, MAX_BACKOFF)
            self.restart_at[name] = now + delay
            self.restarts[name] = self.restarts.get(name, 0) + 1
            say(self.label, f"{name} exited with code {code}; starting it again in {delay:.0f} s")
        return None

    def pump(self, timeout: float) -> None:
        """Print whatever the children wrote, waiting at most timeout seconds."""
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            name = key.data
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                self.selector.unregister(key.fileobj)
                if self.partial[name]:
                    say(name, self.partial[name].decode(errors="replace"))
                    self.partial[name] = b""
                continue
            *lines, self.partial[name] = (self.partial[name] + data).split(b"\n")
            for line in lines:
                say(name, line.decode(errors="replace"))

    def alive(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is None]

    def kill_all(self) -> None:
        for name in self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.procs[name].pid, signal.SIGKILL)

    def stop(self) -> bool:
        """SIGTERM each child's main pid, wait, then SIGKILL its process group.

        Returns True when every child stopped within the time allowed."""
        for name in self.alive():
            say(self.label, f"stopping {name} (pid {self.procs[name].pid})")
            with contextlib.suppress(ProcessLookupError):
                self.procs[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.alive() and time.monotonic() < deadline:
            self.pump(0.1)
        late = self.alive()
        for name in late:
            say(self.label, f"{name} did not stop within {STOP_TIMEOUT:.0f} s: killing it")
        self.kill_all()
        for proc in self.procs.values():
            proc.wait()
        while self.selector.get_map():
            self.pump(0.1)
        return not late

    def run(self, host: str, port: int, url: str, *, web: bool = True) -> int:
        """Run until a signal or the web server's death; "ready" once the web server
        answers (at once when this runner starts no web server)."""
        self.start()
        everything = {1: "it", 2: "both", 3: "all three"}.get(len(self.commands), "all")
        ready = False
        failed = None
        while self.stop_signal is None and failed is None:
            self.pump(0.2)
            failed = self.watch()
            if not ready and failed is None and (not web or answers(host, port)):
                ready = True
                where = f"open {url}" if web else "started"
                say(self.label, f"ready: {where} (Ctrl-C stops {everything})")
        if failed:
            say(self.label, f"{failed[0]} exited with code {failed[1]}; stopping the others")
        else:
            say(self.label, f"got {signal.Signals(self.stop_signal).name}; stopping")
        clean = self.stop()
        say(self.label, "all stopped" if clean else "stopped (some had to be killed)")
        return 1 if failed or not clean else 0


def commands(python: str, host: str, port: int) -> dict[str, list[str]]:
    """The web server, one Celery worker and beat of make run."""
    return {
        "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        # No --queues: it consumes every queue in CELERY_TASK_QUEUES (heavy, light
        # and the older "celery"), so nothing waits for a worker that is not there.
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "governance",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "2",
            "-n",
            "devrun@%h",
        ],
        "beat": [python, "-m", "celery", "-A", "governance", "beat", "-l", "info"],
    }


def mlflow_command(port: int) -> list[str]:
    """A local MLflow tracking server with a SQLite store and proxied artifacts."""
    return [
        str(MLFLOW_BIN),
        "server",
        "--backend-store-uri",
        f"sqlite:///{MLFLOW_DIR / 'mlflow.db'}",
        "--artifacts-destination",
        str(MLFLOW_DIR / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:  # noqa: S310
            return resp.status == 200
    except OSError:
        return False


def start_mlflow(runner: Runner, url: str) -> bool:
    """Start the runner's "mlflow" child, wait until it answers, then load the demo
    registry into it. False when it did not start (or a signal came first)."""
    MLFLOW_DIR.mkdir(parents=True, exist_ok=True)
    runner.spawn("mlflow")
    deadline = time.monotonic() + MLFLOW_START_TIMEOUT
    while not healthy(url):
        runner.pump(0.5)
        if runner.stop_signal is not None or runner.procs["mlflow"].poll() is not None:
            return False
        if time.monotonic() > deadline:
            say(runner.label, f"mlflow did not answer within {MLFLOW_START_TIMEOUT:.0f} s")
            return False
    say(runner.label, f"mlflow ready at {url}; loading the demo registry")
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "seed_demo", "--mlflow-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (done.stdout + done.stderr).splitlines():
        say("seed", line)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument(
        "--mlflow", action="store_true", help="also start a local MLflow server (var/mlflow/)"
    )
    args = parser.parse_args()

    url = f"http://{args.host}:{args.port}/"
    if port_in_use(args.host, args.port):
        print(
            f"Port {args.port} on {args.host} is already in use. Stop whatever uses it, "
            f"or choose another port: PORT={args.port + 1} make run",
            file=sys.stderr,
        )
        return 1

    # E-mail links follow the port (settings: DJANGO_SITE_URL's default).
    os.environ["PORT"] = str(args.port)
    children = commands(sys.executable, args.host, args.port)
    mlflow_url = ""
    if args.mlflow:
        if not MLFLOW_BIN.exists():
            print(f"{MLFLOW_BIN} does not exist: run make venv-mlflow first.", file=sys.stderr)
            return 1
        first = int(os.environ.get("MLFLOW_PORT") or 5000)
        port = next(p for p in range(first, first + 100) if not port_in_use("127.0.0.1", p))
        mlflow_url = f"http://127.0.0.1:{port}"
        # The web server, the worker and beat (and the seed) sync this server, as the
        # demo's governance lead unless the environment names another account.
        os.environ["MLFLOW_TRACKING_URI"] = mlflow_url
        os.environ.setdefault("MLFLOW_SYNC_USERNAME", "governance.lead")
        children = {"mlflow": mlflow_command(port), **children}
    runner = Runner(children, restartable=(*RESTARTABLE, "mlflow"))
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, runner.on_signal)
    banner(url)
    if mlflow_url:
        say(runner.label, f"MLflow: {mlflow_url} (data in var/mlflow/)")
        if not start_mlflow(runner, mlflow_url):
            runner.stop()
            return 1
    return runner.run(args.host, args.port, url)


if __name__ == "__main__":
    sys.exit(main())
