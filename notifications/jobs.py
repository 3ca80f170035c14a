"""The task outbox: the one way the product queues background work (issue 13).

- ``enqueue(task, kwargs=..., key=...)``, inside the business write's transaction,
  writes (or refreshes) a ``JobMarker`` row; after commit it tries to publish the
  message. A broker that is down is logged, never raised into the request: the row
  waits, and the sweep publishes it when the broker is back.
- ``OutboxTask``, the base class of every task queued this way
  (``@shared_task(base=OutboxTask, job_key=...)``): a run takes a lease on its row (a
  conditional UPDATE; one run at a time per key), renews it while it runs, and marks the
  row done; when the work was wanted again during the run, it is published again at
  once. A duplicate delivery finds the row done, or held, and does nothing.
- ``jobs_sweep_run`` (beat, every 30 s): publishes the rows never published (a row
  scheduled with ``not_before`` once that time has come), the rows
  whose run died (lease expired: a worker killed, its main process included) and the
  rows published long ago but never taken (a lost message); gives up after
  ``JOBS_MAX_RUNS`` runs; prunes done rows after ``JOBS_KEEP_DAYS``.

The lease's owner is the Celery task id, which a retry and a broker's redelivery keep:
a redelivered message takes over the lease of its own dead run at once. Task time
limits are shorter than the broker's visibility timeout (settings), so a message is
never redelivered while its run is alive.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import Task
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from notifications.models import JobMarker

logger = logging.getLogger(__name__)

HEADER = "job_key"  # the message header naming the job's row (kept by retries)
# One quick retry when publishing: a broker that is down must not hold a request.
RUNS = JobMarker._meta.get_field("runs")
NOT_BEFORE = JobMarker._meta.get_field("not_before")
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# --- Enqueue (in the requesting transaction) -----------------------------------------------


def default_key(kwargs: dict) -> str:
    """The key of work with no key of its own: a hash of its arguments (the same work
    wanted twice is one row)."""
    canonical = json.dumps(kwargs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _name_and_key(task: Task | str, kwargs: dict, key: Any) -> tuple[str, str]:
    if isinstance(task, str):
        name, key_of = task, None
    else:
        if not isinstance(task, OutboxTask):
            raise TypeError(f"{task.name} is not an OutboxTask: nothing would mark it done.")
        name, key_of = task.name, task.__class__.job_key  # the class: shared_task gives a proxy
    if key is None:
        key = key_of(kwargs) if key_of is not None else default_key(kwargs)
    key = str(key)
    if len(key) > 100:
        key = hashlib.sha256(key.encode()).hexdigest()
    return name, key


def enqueue(
    task: Task | str,
    *,
    kwargs: dict | None = None,
    key: Any = None,
    queue: str = "",
    not_before: datetime | None = None,
) -> str:
    """Queue ``task(**kwargs)`` through the outbox; returns the job's key.

    Call it inside the transaction of the write that wants the work: the row commits
    with it (or not at all), and the message is published after commit. ``task`` is an
    ``OutboxTask`` or its wire name; ``key`` names the work (default: the task's
    ``job_key(kwargs)``, else a hash of the arguments): wanting it again while it is
    pending or running refreshes the row (the latest arguments win) instead of adding
    one. ``queue`` overrides the task's route. ``not_before`` schedules the work for
    later: the row waits, and the first sweep after that time publishes it; wanting
    pending work again keeps the earlier of the two times (no time is now). Never raises
    for the broker."""
    kwargs = dict(kwargs or {})
    json.dumps(kwargs)  # arguments must survive the row and the message: fail here, not later
    name, key = _name_and_key(task, kwargs, key)
    now = timezone.now()
    reopened = Q(done_at__isnull=False) | Q(failed_at__isnull=False)
    fields = {
        "kwargs": kwargs,
        "queue": queue or "",
        "wanted_at": now,
        "not_before": _earlier_schedule(not_before, reopened),
        "sent_at": None,
        "done_at": None,
        "failed_at": None,
        "error": "",
        "runs": Case(When(reopened, then=0), default=F("runs"), output_field=RUNS),
    }
    rows = JobMarker.objects.filter(task=name, key=key)
    if not rows.update(**fields):
        try:
            with transaction.atomic():
                JobMarker.objects.create(
                    task=name,
                    key=key,
                    kwargs=kwargs,
                    queue=queue or "",
                    wanted_at=now,
                    not_before=not_before,
                )
        except IntegrityError:  # created meanwhile by another request
            rows.update(**fields)
    if not_before is not None and not_before > now:
        return key  # the sweep publishes it when it is due
    transaction.on_commit(
        partial(_publish_after_commit, task=name, key=key, kwargs=kwargs, queue=queue or ""),
        robust=True,
    )
    return key


def _earlier_schedule(not_before: datetime | None, reopened: Q):
    """The row's time when the work is wanted again: the earlier of the pending wish and
    this one (no time is now), so that wanting work again never postpones it; a done
    or given-up row takes the new time."""
    if not_before is None:
        return None
    value = Value(not_before, output_field=NOT_BEFORE)
    return Case(
        When(reopened, then=value),
        When(not_before__isnull=True, then=Value(None, output_field=NOT_BEFORE)),
        default=Least(F("not_before"), value),
        output_field=NOT_BEFORE,
    )


def _publish(*, task: str, key: str, kwargs: dict, queue: str) -> None:
    """Send the message (raises what the broker raises)."""
    from celery import current_app

    options: dict[str, Any] = {}
    queue = queue or _setting("JOBS_QUEUE", "")
    if queue:
        options["queue"] = queue
    current_app.send_task(
        task,
        kwargs=kwargs,
        headers={HEADER: key},
        retry=True,
        retry_policy=PUBLISH_RETRY,
        **options,
    )


def _publish_after_commit(*, task: str, key: str, kwargs: dict, queue: str) -> bool:
    """Publish and record it; a failure is logged (the sweep publishes later)."""
    try:
        _publish(task=task, key=key, kwargs=kwargs, queue=queue)
    except Exception as exc:  # the broker is down: the row waits for the sweep
        logger.warning("%s[%s] not published (%s); the sweep will publish it", task, key, exc)
        return False
    try:
        JobMarker.objects.filter(task=task, key=key, sent_at__isnull=True).update(
            sent_at=timezone.now(), sends=F("sends") + 1
        )
    except Exception as exc:  # published; at worst the sweep publishes it once more
        logger.warning("%s[%s] published but not marked (%s)", task, key, exc)
    return True


# --- Run (in the worker) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    pk: int
    task: str
    key: str
    owner: str
    token: datetime  # the row's wanted_at when the lease was taken
    kwargs: dict


def _lease_seconds() -> float:
    return float(_setting("JOBS_LEASE_SECONDS", 40))


def _scheduled_later(row: JobMarker) -> bool:
    return row.not_before is not None and row.not_before > timezone.now()


def job_claim(*, task: str, key: str, owner: str, kwargs: dict, via_outbox: bool) -> Lease | str:
    """Take the lease on ``(task, key)``; returns the lease, or why not (done, given up,
    running elsewhere). A message sent without the outbox (no header) is a new wish: it
    re-opens a done row."""
    now = timezone.now()
    owner = owner[:255]
    row = JobMarker.objects.filter(task=task, key=key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = JobMarker.objects.create(
                    task=task, key=key, kwargs=kwargs, wanted_at=now, sent_at=now, sends=1
                )
        except IntegrityError:
            row = JobMarker.objects.get(task=task, key=key)
    if via_outbox and _scheduled_later(row):
        # An older message: the sweep publishes the row when it is due (marked unsent,
        # so that it goes then, not after the resend interval of a lost message).
        JobMarker.objects.filter(pk=row.pk, sent_at=row.sent_at).update(sent_at=None)
        return "scheduled later"
    if row.done_at or row.failed_at:
        if via_outbox:
            return "done" if row.done_at else "given up"
        JobMarker.objects.filter(pk=row.pk, done_at=row.done_at, failed_at=row.failed_at).update(
            kwargs=kwargs, wanted_at=now, done_at=None, failed_at=None, error="", runs=0
        )
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    taken = JobMarker.objects.filter(
        free, pk=row.pk, done_at__isnull=True, failed_at__isnull=True
    ).update(
        lease_owner=owner,
        lease_until=now + timedelta(seconds=_lease_seconds()),
        runs=Case(
            When(lease_owner=owner, then=F("runs")), default=F("runs") + 1, output_field=RUNS
        ),
    )
    if not taken:
        return "running elsewhere"
    row = JobMarker.objects.get(pk=row.pk)
    return Lease(
        pk=row.pk,
        task=task,
        key=key,
        owner=owner,
        token=row.wanted_at,
        kwargs=row.kwargs if via_outbox else kwargs,
    )


def job_finish(lease: Lease) -> JobMarker | None:
    """Done: mark the row done, unless the work was wanted again during the run: then
    free it and return it, to publish again."""
    now = timezone.now()
    mine = JobMarker.objects.filter(pk=lease.pk, lease_owner=lease.owner)
    if mine.filter(wanted_at=lease.token).update(
        done_at=now, lease_owner="", lease_until=None, error=""
    ):
        return None
    mine.update(lease_owner="", lease_until=None, sent_at=None)
    return JobMarker.objects.filter(pk=lease.pk, done_at__isnull=True, sent_at__isnull=True).first()


def job_release(lease: Lease, error: str = "") -> None:
    """The run failed: free the lease (the owner stays, so that a retry of the same
    message is not counted as another run) and keep the row for a retry or the sweep."""
    JobMarker.objects.filter(pk=lease.pk, lease_owner=lease.owner).update(
        lease_until=None, error=error[:2000]
    )


@contextmanager
def _heartbeat(lease: Lease):
    """Renew the lease while the run lasts, from a thread: a run that dies stops
    renewing, and its lease expires within ``JOBS_LEASE_SECONDS``."""
    seconds = _lease_seconds()
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(seconds / 4):
                try:
                    JobMarker.objects.filter(pk=lease.pk, lease_owner=lease.owner).update(
                        lease_until=timezone.now() + timedelta(seconds=seconds)
                    )
                except Exception as exc:  # a locked database: the next beat tries again
                    logger.warning("lease of %s[%s] not renewed: %s", lease.task, lease.key, exc)
        finally:
            connections.close_all()  # this thread's connections

    thread = threading.Thread(target=beat, name=f"lease-{lease.key}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


class OutboxTask(Task):
    """Base of every task queued through ``enqueue``: one run at a time per key, the row
    marked done at the end. ``job_key(kwargs)`` (a class attribute, given to
    ``shared_task``) names the work when the message carries no key (a message sent
    without the outbox); default: a hash of the arguments."""

    job_key: Callable[[dict], Any] | None = None

    def __call__(self, *args, **kwargs):
        if not self.request.called_directly:
            return self._run_leased(args, kwargs)
        # Called as a function (tests, commands): push a request as Task.__call__ does.
        from celery._state import _task_stack

        _task_stack.push(self)
        self.push_request(args=args, kwargs=kwargs)
        try:
            return self._run_leased(args, kwargs)
        finally:
            self.pop_request()
            _task_stack.pop()

    def _run_leased(self, args: tuple, kwargs: dict):
        # A worker puts the message's custom headers on the request; eager runs keep
        # them in ``request.headers``.
        header = self.request.get(HEADER) or (self.request.get("headers") or {}).get(HEADER)
        key_of = type(self).job_key
        key = header or str(key_of(kwargs) if key_of is not None else default_key(kwargs))
        owner = self.request.id or f"local-{uuid.uuid4()}"
        lease = job_claim(
            task=self.name, key=key, owner=owner, kwargs=kwargs, via_outbox=bool(header)
        )
        if isinstance(lease, str):
            logger.info("%s[%s] skipped: %s", self.name, key, lease)
            return {"skipped": lease}
        try:
            with _heartbeat(lease):
                result = self.run(*args, **lease.kwargs)
        except BaseException as exc:
            job_release(lease, f"{type(exc).__name__}: {exc}")
            raise
        again = job_finish(lease)
        if again is not None and not _scheduled_later(again):
            _publish_row(again)
        return result


# --- Sweep (beat) ----------------------------------------------------------------------------


def _publish_row(row: JobMarker) -> bool:
    return _publish_after_commit(task=row.task, key=row.key, kwargs=row.kwargs, queue=row.queue)


def _give_up(now: datetime, max_runs: int) -> int:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    stuck = JobMarker.objects.filter(
        free, done_at__isnull=True, failed_at__isnull=True, runs__gte=max_runs
    )
    count = 0
    for row in stuck:
        logger.error("%s gave up after %s runs: %s", row, row.runs, row.error)
        given_up = JobMarker.objects.filter(pk=row.pk, done_at__isnull=True).update(
            failed_at=now, lease_owner="", lease_until=None
        )
        count += given_up
        hook = _GIVE_UP_HOOKS.get(row.task)
        if given_up and hook is not None:
            try:
                hook(row.kwargs, row.runs, row.error)
            except Exception:  # the sweep goes on; the hook's owner logs its own
                logger.exception("the give-up hook of %s failed", row.task)
    return count


# What a task's owner does when its work is given up (e.g. mark a pack "failed" so that
# its page stops waiting): registered by the app in its ``ready``.
_GIVE_UP_HOOKS: dict[str, Callable[[dict, int, str], None]] = {}


def register_give_up(task: str, hook: Callable[[dict, int, str], None]) -> None:
    """Call ``hook(kwargs, runs, error)`` when the sweep gives up ``task``'s work."""
    _GIVE_UP_HOOKS[task] = hook


def _due(now: datetime, resend: timedelta, limit: int) -> list[JobMarker]:
    """Rows to publish: never published (after a grace for the request's own publish),
    whose run died (lease expired), or published long ago and never taken (the interval
    doubles with each publication, up to 16 times)."""
    grace = timedelta(seconds=float(_setting("JOBS_PUBLISH_GRACE_SECONDS", 10)))
    candidates = (
        JobMarker.objects.filter(done_at__isnull=True, failed_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(
            Q(sent_at__isnull=True, wanted_at__lt=now - grace)
            # scheduled for later and now due: nobody publishes it at commit
            | Q(sent_at__isnull=True, not_before__gt=F("wanted_at"))
            | Q(lease_until__lt=now)
            | Q(sent_at__lt=now - resend)
        )
        .order_by("wanted_at", "pk")[:limit]
    )
    out = []
    for row in candidates:
        lost = row.sent_at is not None and row.lease_until is None  # not a dead run
        if lost and row.sent_at > now - resend * 2 ** min(max(row.sends - 1, 0), 4):
            continue
        out.append(row)
    return out


def jobs_sweep_run(*, resend: timedelta | None = None, limit: int = 500) -> dict:
    """The scheduled safety net of every job kind (see the module's docstring). Each row
    is claimed for publication by a conditional UPDATE, so two sweeps never both publish
    it; the first broker failure stops the sweep (the next one tries again)."""
    now = timezone.now()
    if resend is None:
        resend = timedelta(minutes=float(_setting("JOBS_RESEND_MINUTES", 3)))
    out = {"published": 0, "gave_up": _give_up(now, int(_setting("JOBS_MAX_RUNS", 5)))}
    for row in _due(now, resend, limit):
        claimed = JobMarker.objects.filter(
            pk=row.pk,
            sent_at=row.sent_at,
            lease_until=row.lease_until,
            wanted_at=row.wanted_at,  # not wanted again (maybe for later) since it was read
            done_at__isnull=True,
        ).update(sent_at=now, sends=F("sends") + 1, lease_owner="", lease_until=None)
        if not claimed:
            continue
        try:
            _publish(task=row.task, key=row.key, kwargs=row.kwargs, queue=row.queue)
        except Exception as exc:
            JobMarker.objects.filter(pk=row.pk, sent_at=now).update(
                sent_at=row.sent_at, sends=F("sends") - 1
            )
            logger.warning("the broker is unreachable (%s): %s stays pending", exc, row)
            out["broker_down"] = True
            break
        out["published"] += 1
    keep = timedelta(days=float(_setting("JOBS_KEEP_DAYS", 7)))
    out["pruned"] = JobMarker.objects.filter(done_at__lt=now - keep).delete()[0]
    return out
