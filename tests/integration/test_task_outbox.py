"""The task outbox with real worker processes (issue 13).

- Work queued while the broker refused connections waits as a row; when the broker is
  back, the sweep (beat's ``jobs_sweep``, called here as beat would) publishes it and a
  real worker completes it.
- kill -9 of the worker's MAIN process (prefork: its pool child dies with it) in the
  middle of a summary: after a new worker starts, exactly one summary completes within
  2 minutes, on both brokers in every run (Redis: CI's, or a private redis-server):
  the embedded one hands the message back at once (the same task id takes over its dead
  run's lease); Redis keeps it unacknowledged for its visibility timeout, so the sweep
  publishes the job again once its lease (renewed every few seconds while the run
  lived) has expired.

The test process publishes to the workers' private broker and queue
(``WorkerProcess.publishing``, ``JOBS_QUEUE``).
"""

import signal
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from fairness import services as svc
from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.broker import broker_down
from tests.integration.private_services import private_redis
from tests.integration.test_bias_worker import (
    MAPPING,
    _pool_child,
    _running_half_way,
    assert_done_once,
    frame,
    status_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUMMARY = "reviews.tasks.bias_summary_run"


@pytest.fixture(params=["embedded", "redis"])
def broker(request, settings, tmp_path):
    """The broker of the test's workers, whatever the settings name: the embedded one
    (filesystem folders, atomic transport) or Redis (the configured one in CI, else a
    private ``redis-server``; skipped when there is none)."""
    visibility = {"visibility_timeout": settings.CELERY_BROKER_VISIBILITY_TIMEOUT}
    if request.param == "embedded":
        if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
            settings.CELERY_BROKER_URL = "filesystem://"
            settings.CELERY_BROKER_TRANSPORT = "governance.broker:Transport"
            settings.CELERY_BROKER_TRANSPORT_OPTIONS = visibility
        yield request.param
        return
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        yield request.param
        return
    server = private_redis(tmp_path / "redis")
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = visibility
    try:
        yield request.param
    finally:
        server.kill()


def dataset_of(version, by, rows: int):
    import io

    import pyarrow.csv as pacsv

    out = io.BytesIO()
    pacsv.write_csv(frame(rows), out)
    dataset, _ = svc.scored_dataset_upload(
        version=version, by=by, file=ContentFile(out.getvalue(), name="scores.csv"), mapping=MAPPING
    )
    svc.scored_dataset_validate(dataset_id=dataset.pk)  # as its worker would (issue 18)
    dataset.refresh_from_db()
    return dataset


def beat_until(worker, settings, predicate, *, timeout: float, what: str):
    """Run the sweep every JOBS_SWEEP interval (as beat does) until predicate() holds."""
    interval = settings.CELERY_BEAT_SCHEDULE["resend-lost-jobs"]["schedule"]
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic()
    while time.monotonic() < deadline:
        if predicate():
            return
        if time.monotonic() >= next_sweep:
            with worker.publishing():
                jobs_sweep()
            next_sweep = time.monotonic() + interval
        worker.check_alive()
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}:\n{worker.log_tail()}")


def test_work_queued_while_the_broker_was_down_is_done_when_it_is_back(
    workers_with, version, data_scientist, settings
):
    dataset = dataset_of(version, data_scientist, 20_000)
    with broker_down():
        summary, created = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    assert created
    job = JobMarker.objects.get(task=SUMMARY)
    assert job.sent_at is None and job.done_at is None
    workers = workers_with()
    worker = workers.start("back")
    settings.JOBS_QUEUE = worker.queue
    JobMarker.objects.filter(pk=job.pk).update(wanted_at="2000-01-01T00:00:00Z")
    beat_until(
        worker,
        settings,
        lambda: status_of(summary.pk).status == "done",
        timeout=120,
        what="the summary",
    )
    assert_done_once(summary.pk, dataset)
    job.refresh_from_db()
    assert job.done_at is not None and job.runs == 1


def test_a_killed_main_process_leaves_one_summary_done_within_two_minutes_of_a_restart(
    broker, workers_with, version, data_scientist, settings
):
    """On both brokers in every run (issue 13)."""
    dataset = dataset_of(version, data_scientist, 1_500_000)
    # the dead run's lease (renewed every 5 s while it lived) expires 20 s after its death
    workers = workers_with(BIAS_BATCH_ROWS=5_000, JOBS_LEASE_SECONDS=20)
    workers.env["JOBS_QUEUE"] = workers.queue
    settings.JOBS_QUEUE = workers.queue
    first = workers.start("first", pool="prefork")
    with first.publishing():
        summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    first.wait_until(lambda: _running_half_way(summary.pk), timeout=120, what="rows counted")
    child = _pool_child(first.process.pid)
    assert child is not None
    first.process.send_signal(signal.SIGKILL)  # the main process, not the pool child
    first.process.wait(10)
    for _ in range(100):  # the child dies with its parent (PR_SET_PDEATHSIG)
        if not Path(f"/proc/{child}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists() or _zombie(child)
    half = status_of(summary.pk)
    assert half.status == "running" and half.result is None
    second = workers.start("second")
    beat_until(
        second,
        settings,
        lambda: status_of(summary.pk).status == "done",
        timeout=120,
        what="the summary after the restart",
    )
    done = assert_done_once(summary.pk, dataset)
    assert done.attempts == 2  # the killed run and the one that completed: never two at once
    job = JobMarker.objects.get(task=SUMMARY)
    assert job.done_at is not None


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
