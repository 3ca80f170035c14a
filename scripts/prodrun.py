#!/usr/bin/env python3
"""Run the production topology on one host: gunicorn, two Celery workers and beat.

    python scripts/prodrun.py [--host H] [--port P] [--processes web,heavy,light,beat]
                              [--no-migrate]

`make prod` calls it. It first runs `manage.py check --deploy` (its warnings are
printed), `manage.py migrate --noinput` (unless --no-migrate) and, when it starts the
web server, `manage.py collectstatic --noinput`; any failure stops it there. Then:

- web:   gunicorn (governance/gunicorn_conf.py): WEB_CONCURRENCY processes of
         WEB_THREADS threads, static files served by whitenoise;
- heavy: a Celery worker on the "heavy" queue (bias summaries, monitoring windows,
         experiment analyses), CELERY_HEAVY_CONCURRENCY processes (2);
- light: a Celery worker on the "light" queue (e-mail, obligations, the scheduled
         sweeps; and "celery", the queue used before the split), CELERY_LIGHT_CONCURRENCY (2);
- beat:  Celery beat. Run exactly one per installation.

The database and the broker are the environment's (DATABASE_URL, CELERY_BROKER_URL);
run it with DJANGO_DEBUG=false. It never loads the demo. A worker or beat that dies is
started again with a backoff; if gunicorn dies the others are stopped and this exits
non-zero, for the service manager (systemd, a container runtime) to restart it. On
several hosts, start each host's share with --processes (see README, "Production").
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import environ

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devrun  # noqa: E402 - the process runner of make run, reused

ROOT = devrun.ROOT
PROCESSES = ("web", "heavy", "light", "beat")
HEAVY_QUEUES = "heavy"
LIGHT_QUEUES = "light,celery"


def commands(python: str, *, host: str, port: int, processes: list[str]) -> dict[str, list]:
    """The argv of each process to start, in start order."""
    celery = [python, "-m", "celery", "-A", "governance"]

    def worker(name: str, queues: str, concurrency_var: str) -> list[str]:
        concurrency = os.environ.get(concurrency_var) or "2"
        return [
            *celery,
            "worker",
            "-l",
            "info",
            "--queues",
            queues,
            "--hostname",
            f"{name}@%h",
            "--concurrency",
            concurrency,
        ]

    every = {
        "web": [
            python,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "governance" / "gunicorn_conf.py"),
            "--bind",
            f"{host}:{port}",
        ],
        "heavy": worker("heavy", HEAVY_QUEUES, "CELERY_HEAVY_CONCURRENCY"),
        "light": worker("light", LIGHT_QUEUES, "CELERY_LIGHT_CONCURRENCY"),
        "beat": [*celery, "beat", "-l", "info"],
    }
    return {name: every[name] for name in PROCESSES if name in processes}


def setup_steps(python: str, *, migrate: bool, web: bool) -> list[list[str]]:
    """The management commands run before anything starts."""
    manage = [python, "manage.py"]
    steps = [[*manage, "check", "--deploy"]]
    if migrate:
        steps.append([*manage, "migrate", "--noinput"])
    if web:
        steps.append([*manage, "collectstatic", "--noinput", "-v", "1"])
    return steps


def parse_processes(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(PROCESSES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown process {', '.join(unknown) or '(none)'}: choose from {','.join(PROCESSES)}"
        )
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument(
        "--processes",
        type=parse_processes,
        default=parse_processes(os.environ.get("PROD_PROCESSES") or ",".join(PROCESSES)),
        help="which of web,heavy,light,beat this host runs (default: all)",
    )
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="skip migrate (on all but one host of a several-host installation)",
    )
    args = parser.parse_args()

    # The settings' own reading: the environment first, then .env beside manage.py.
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    if environ.Env().bool("DJANGO_DEBUG", default=True):
        print(
            "The production topology runs with DJANGO_DEBUG=false (and DJANGO_SECRET_KEY, "
            "DJANGO_ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL): see README, "
            '"Production". For development use make run.',
            file=sys.stderr,
        )
        return 2
    web = "web" in args.processes
    if web and devrun.port_in_use(args.host, args.port):
        print(f"Port {args.port} on {args.host} is already in use.", file=sys.stderr)
        return 1
    os.environ["PORT"] = str(args.port)  # e-mail links follow it unless DJANGO_SITE_URL is set
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings"}
    python = sys.executable
    for argv in setup_steps(python, migrate=not args.no_migrate, web=web):
        devrun.say("prod", " ".join(argv[1:]))
        done = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=False)  # noqa: S603
        if done.returncode:
            devrun.say(
                "prod", f"{' '.join(argv[1:3])} failed (exit {done.returncode}): not starting"
            )
            return done.returncode

    runner = devrun.Runner(
        commands(python, host=args.host, port=args.port, processes=args.processes),
        restartable=("heavy", "light", "beat"),
        label="prod",
    )
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, runner.on_signal)
    return runner.run(args.host, args.port, f"http://{args.host}:{args.port}/", web=web)


if __name__ == "__main__":
    sys.exit(main())
