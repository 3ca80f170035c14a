"""Production batches validated by a real worker (issue 18): the request only quarantines
the batch; a worker process reads every row, publishes it and only then queues its
windows. Killed half-way through the rows (kill -9 of the whole worker), the job is
picked up again by the outbox's safety net and the batch is published exactly once, its
windows queued once, its quarantined bytes gone."""

import datetime as dt
import signal

import pyarrow as pa
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audit.models import AuditEvent
from fairness.models import ScoredDataset
from monitoring import services as svc
from monitoring.models import MonitoringBatch
from notifications.models import JobMarker
from tests.factories import ModelVersionFactory, UseCaseFactory
from tests.integration.test_task_outbox import beat_until
from tests.monitoring import monitoring_data as data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VALIDATE = "monitoring.tasks.monitoring_batch_validate"
ROWS = 600_000


def _dataset(pk) -> ScoredDataset:
    return ScoredDataset.objects.get(pk=pk)


def test_a_worker_killed_mid_batch_validation_is_resumed_and_publishes_once(
    workers_with, team, data_scientist, settings
):
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    config = data.configure(
        version, data_scientist, data.reference_dataset(version, data_scientist)
    )
    table = data.rows(ROWS, seed=2, start=data.NOW - dt.timedelta(days=14), days=7)
    table["ts"] = pa.array(table["ts"]).cast(pa.timestamp("us", tz="UTC"))
    body = data.parquet_bytes(table)
    # small batches so the pass is caught half-way; the dead run's lease lapses 6 s after
    workers = workers_with(MONITORING_BATCH_ROWS=1_000, JOBS_LEASE_SECONDS=6)
    workers.env["JOBS_QUEUE"] = workers.queue
    settings.JOBS_QUEUE = workers.queue
    first = workers.start("first")
    with first.publishing():
        batch, created = svc.monitoring_batch_upload(
            config=config, by=data_scientist, file=ContentFile(body, name="batch.parquet")
        )
    assert created and batch.dataset.status == "validating"
    quarantined = batch.dataset.file.name
    assert quarantined.startswith("scored-quarantine/") and default_storage.exists(quarantined)
    first.wait_until(
        lambda: 0 < _dataset(batch.dataset_id).rows_done < ROWS,
        timeout=120,
        what="rows validated",
    )
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    assert _dataset(batch.dataset_id).status == "validating"
    assert not JobMarker.objects.filter(task="reviews.tasks.monitoring_compute").exists()
    second = workers.start("second")
    beat_until(
        second,
        settings,
        lambda: _dataset(batch.dataset_id).status != "validating",
        timeout=150,
        what="the validation after the restart",
    )
    done = MonitoringBatch.objects.select_related("dataset").get(pk=batch.pk)
    assert done.dataset.status == "valid" and done.rows == ROWS, done.dataset.error
    assert done.dataset.file.name.startswith("scored-data/") and done.time_start is not None
    second.wait_until(
        lambda: not default_storage.exists(quarantined),
        timeout=30,
        what="the quarantined copy to be deleted",
    )
    published = AuditEvent.objects.filter(action="monitoring.production_published")
    assert published.count() == 1
    assert JobMarker.objects.get(task=VALIDATE).done_at is not None
    # the windows were queued once, by the publication
    assert JobMarker.objects.filter(task="reviews.tasks.monitoring_compute").count() == 1
