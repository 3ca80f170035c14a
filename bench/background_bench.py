"""Background work of loading a portfolio (issue 18): tasks queued, worker time, e-mails.

On a fresh SQLite file (or an empty PostgreSQL database named by ``DATABASE_URL``), runs
``seed_demo`` and then, with ``--use-cases N``, ``seed_scale --use-cases N``; after each
load it drains the task outbox in this process, as one worker would: every message the
product publishes (``notifications.jobs._publish``, recorded instead of sent to a
broker) is run by its task (``Task.apply`` with the outbox's header, so the lease, the
"done" marks and the follow-ups are the product's own), work scheduled for later
(``not_before``) is published by the product's sweep once due (the script waits for
it), and e-mails go to Django's in-memory backend. Then the owners' daily digest is
sent as beat would at its hour (when the product has one); after ``seed_scale``, the next
day's (today's went out after ``seed_demo``).

Reported per phase: messages published and runs per task (skipped runs apart), the
seconds spent in runs (the worker time, without a broker's overhead), obligation
recomputes that changed nothing, and e-mails by kind and recipients.

    .venv/bin/python bench/background_bench.py                      # the demo alone
    .venv/bin/python bench/background_bench.py --use-cases 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "bench" / "out"
RECOMPUTE = "governance.tasks.obligations_recompute"


class Drain:
    """The messages the product publishes, run in order by this process."""

    def __init__(self):
        self.pending: list[tuple[str, str, dict]] = []
        self.reset()

    def reset(self) -> None:
        self.published: Counter[str] = Counter()
        self.runs: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)
        self.noop_recomputes = 0

    def publish(self, *, task: str, key: str, kwargs: dict, queue: str) -> None:
        self.published[task] += 1
        self.pending.append((task, key, kwargs))

    def run(self) -> None:
        """Run every published message, then the scheduled work once it is due."""
        from celery import current_app
        from django.utils import timezone

        from notifications.jobs import HEADER, jobs_sweep_run
        from notifications.models import JobMarker

        while True:
            while self.pending:
                task, key, kwargs = self.pending.pop(0)
                started = time.perf_counter()
                result = current_app.tasks[task].apply(kwargs=kwargs, headers={HEADER: key})
                outcome = result.get(propagate=True)
                self.seconds[task] += time.perf_counter() - started
                if isinstance(outcome, dict) and "skipped" in outcome:
                    self.skipped[task] += 1
                    continue
                self.runs[task] += 1
                if task == RECOMPUTE and isinstance(outcome, dict) and not any(outcome.values()):
                    self.noop_recomputes += 1
            waiting = JobMarker.objects.filter(done_at=None, failed_at=None).order_by("not_before")
            if not waiting.exists():
                return
            due = waiting.exclude(not_before=None).values_list("not_before", flat=True).first()
            pause = (due - timezone.now()).total_seconds() if due else 0.0
            time.sleep(max(pause, 0.0) + 0.05)
            if not jobs_sweep_run(resend=dt.timedelta(0))["published"] and not self.pending:
                # Nothing due was found (never published, e.g.): publish what waits now.
                JobMarker.objects.filter(done_at=None, failed_at=None).update(
                    not_before=None, sent_at=None, wanted_at=timezone.now() - dt.timedelta(hours=1)
                )
                jobs_sweep_run(resend=dt.timedelta(0))
                if not self.pending:
                    return

    def report(self) -> dict:
        tasks = sorted(set(self.published) | set(self.runs) | set(self.skipped))
        return {
            "tasks": {
                t: {
                    "published": self.published[t],
                    "runs": self.runs[t],
                    "skipped": self.skipped[t],
                    "seconds": round(self.seconds[t], 2),
                }
                for t in tasks
            },
            "messages": sum(self.published.values()),
            "worker_seconds": round(sum(self.seconds.values()), 2),
            "noop_recomputes": self.noop_recomputes,
        }


def _mails(sent_before: int) -> dict:
    from django.core import mail

    new = mail.outbox[sent_before:]
    subjects = Counter(m.subject.split(" (")[0].split(":")[0] for m in new)
    return {
        "emails": len(new),
        "recipients": len({tuple(m.to) for m in new}),
        "by_subject": dict(subjects.most_common()),
    }


def _phase(name: str, drain: Drain, load) -> dict:
    from django.core import mail

    sent_before = len(getattr(mail, "outbox", []))
    drain.reset()
    started = time.perf_counter()
    load()
    loaded = time.perf_counter() - started
    drain.run()
    out = {"phase": name, "load_seconds": round(loaded, 1), **drain.report()}
    out.update(_mails(sent_before))
    return out


def _digest(drain: Drain, days_later: int = 0) -> None:
    """The daily digest as beat sends it at its hour (``days_later``: that day's), when
    the product has one."""
    try:
        from governance.services.digest import obligation_digests_send
    except ImportError:
        return
    from django.utils import timezone

    now = timezone.now() + dt.timedelta(days=days_later)
    obligation_digests_send(now=now, settle=dt.timedelta(0), wait_for_hour=False)
    drain.run()


def _print(result: dict) -> None:
    print(
        f"\n{result['phase']}: loaded in {result['load_seconds']} s; "
        f"{result['messages']} messages, worker {result['worker_seconds']} s, "
        f"{result['noop_recomputes']} no-op recomputes; {result['emails']} e-mails to "
        f"{result['recipients']} people"
    )
    for task, row in result["tasks"].items():
        print(
            f"  {task:<48} published {row['published']:>6}  runs {row['runs']:>6}  "
            f"skipped {row['skipped']:>6}  {row['seconds']:>8.2f} s"
        )
    for subject, count in result["by_subject"].items():
        print(f"  e-mail {subject!r}: {count}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-cases", type=int, default=0, help="seed_scale N (0: demo only)")
    parser.add_argument("--db", help="SQLite file (default bench/out/background-N.sqlite3)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)

    db = Path(args.db or DEFAULT_OUT / f"background-{args.use_cases}.sqlite3")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)  # a fresh portfolio every run
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    from bench.bootstrap import django_setup

    django_setup(db_name=db.stem, db_path=str(db), seed=False)
    import logging

    from django.core import mail
    from django.core.management import call_command

    import notifications.jobs

    for quiet in ("celery.app.trace", "notifications.jobs"):  # one line per task run
        logging.getLogger(quiet).setLevel(logging.WARNING)

    mail.outbox = []
    drain = Drain()
    notifications.jobs._publish = drain.publish
    call_command("migrate", verbosity=0)
    results = {
        "use_cases": args.use_cases,
        "started": dt.datetime.now(dt.UTC).isoformat(),
        "load_average_at_start": list(os.getloadavg()),
        "phases": [],
    }

    with open(os.devnull, "w") as quiet:
        seed = lambda: call_command("seed_demo", verbosity=0, stdout=quiet)  # noqa: E731
        results["phases"].append(_phase("seed_demo", drain, seed))
    results["phases"].append(_phase("digest after seed_demo", drain, lambda: _digest(drain)))
    if args.use_cases:
        with open(os.devnull, "w") as quiet:
            results["phases"].append(
                _phase(
                    f"seed_scale --use-cases {args.use_cases}",
                    drain,
                    lambda: call_command("seed_scale", use_cases=args.use_cases, stdout=quiet),
                )
            )
        # Today's digests went out after seed_demo (one per person per day): the next day's.
        next_day = _phase("next day's digest", drain, lambda: _digest(drain, days_later=1))
        results["phases"].append(next_day)
    results["load_average_at_end"] = list(os.getloadavg())
    for phase in results["phases"]:
        _print(phase)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = out / f"background_bench-{args.use_cases}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nload average {results['load_average_at_start']} -> {results['load_average_at_end']}")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
