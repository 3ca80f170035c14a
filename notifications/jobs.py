"""Job markers: background work that is wanted survives a lost message, and runs once
at a time per key (see ``JobMarker``).

- ``job_wanted`` (in the requesting transaction): the work is wanted; the caller still
  queues the task after commit, as before.
- ``job_run`` (in the task): take the lease, run, delete the marker unless the work was
  wanted again meanwhile (then it is sent again at once). A run that finds the lease
  held by another live run does nothing: that run, or the sweep, covers the wish.
- ``jobs_resend`` (the scheduled sweep): markers that nobody holds and that were last
  sent ``older_than`` ago are sent again.

The lease's owner is the Celery task id, which a retry and a broker's redelivery keep:
a redelivered message takes over the lease of its own dead run at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import JobMarker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    task: str
    key: str
    owner: str
    token: datetime  # the marker's wanted_at when the lease was taken


def job_wanted(*, task: str, key: Any, kwargs: dict) -> None:
    """Record (in the caller's transaction) that ``task(**kwargs)`` is wanted for ``key``."""
    now = timezone.now()
    key = str(key)
    updated = JobMarker.objects.filter(task=task, key=key).update(
        kwargs=kwargs, wanted_at=now, sent_at=now
    )
    if updated:
        return
    try:
        with transaction.atomic():
            JobMarker.objects.create(task=task, key=key, kwargs=kwargs, wanted_at=now, sent_at=now)
    except IntegrityError:  # created meanwhile by another request
        JobMarker.objects.filter(task=task, key=key).update(
            kwargs=kwargs, wanted_at=now, sent_at=now
        )


def job_claim(
    *, task: str, key: Any, owner: str, seconds: float, kwargs: dict | None = None
) -> Lease | None:
    """Take the lease on ``(task, key)`` for ``seconds``; None while another owner holds it."""
    now = timezone.now()
    key = str(key)
    try:
        with transaction.atomic():
            JobMarker.objects.get_or_create(
                task=task, key=key, defaults={"kwargs": kwargs or {}, "wanted_at": now}
            )
    except IntegrityError:
        pass
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    taken = JobMarker.objects.filter(free, task=task, key=key).update(
        lease_owner=owner[:255], lease_until=now + timedelta(seconds=seconds), runs=F("runs") + 1
    )
    if not taken:
        return None
    token = JobMarker.objects.filter(task=task, key=key).values_list("wanted_at", flat=True)
    return Lease(task=task, key=key, owner=owner[:255], token=token.first())


def job_finish(lease: Lease) -> dict | None:
    """Done: delete the marker, or, when the work was wanted again during the run, free
    the lease and return the kwargs to send again."""
    mine = JobMarker.objects.filter(task=lease.task, key=lease.key, lease_owner=lease.owner)
    if mine.filter(wanted_at=lease.token).delete()[0]:
        return None
    again = mine.values_list("kwargs", flat=True).first()
    now = timezone.now()
    mine.update(lease_owner="", lease_until=None, sent_at=now)
    return again


def job_release(lease: Lease) -> None:
    """The run failed: free the lease, keep the marker (the sweep sends it again)."""
    JobMarker.objects.filter(task=lease.task, key=lease.key, lease_owner=lease.owner).update(
        lease_owner="", lease_until=None
    )


def send_task(task: str, kwargs: dict) -> None:
    """Queue the task of wire name ``task`` (the worker imports it; no app import here)."""
    from celery import current_app

    current_app.send_task(task, kwargs=kwargs)


def current_task_id() -> str:
    """The running Celery task's id (kept by retries and redeliveries), else a new one."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return getattr(request, "id", None) or f"local-{uuid.uuid4()}"


def job_run[T](
    *,
    task: str,
    key: Any,
    seconds: float,
    kwargs: dict,
    run: Callable[[], T],
    owner: str | None = None,
    resend: bool = True,
) -> T | None:
    """Run ``run()`` under the lease on ``(task, key)``; None when another run holds it.

    With ``resend``, the task is queued again at once when it was wanted again meanwhile
    (else the sweep sends it)."""
    lease = job_claim(
        task=task, key=key, owner=owner or current_task_id(), seconds=seconds, kwargs=kwargs
    )
    if lease is None:
        logger.info("%s[%s] is already running elsewhere: skipped", task, key)
        return None
    try:
        result = run()
    except BaseException:
        job_release(lease)
        raise
    again = job_finish(lease)
    if again is not None and resend:
        send_task(task, again)
    return result


def jobs_resend(*, older_than: timedelta, limit: int = 200) -> list[tuple[str, dict]]:
    """Markers nobody holds, last sent ``older_than`` ago: mark them sent now and return
    (task, kwargs) to send. A conditional UPDATE per marker: two sweeps never both send."""
    now = timezone.now()
    cutoff = now - older_than
    stale = (
        JobMarker.objects.filter(Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("sent_at", "pk")
        .values_list("pk", "task", "kwargs", "sent_at")[:limit]
    )
    out = []
    for pk, task, kwargs, sent_at in list(stale):
        if JobMarker.objects.filter(pk=pk, sent_at=sent_at).update(sent_at=now):
            out.append((task, kwargs))
    return out
