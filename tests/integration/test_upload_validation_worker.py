"""Uploads validated by a real worker (issue 18): the web request only quarantines the
file; a worker process reads every row and publishes it, then the summary asked for with
the upload runs. Killed half-way through the rows (kill -9 of the whole worker), the job
is picked up again by the outbox's safety net (the embedded broker hands the message
back; with Redis the sweep publishes it once the dead run's lease has run out) and the
upload is published exactly once, its quarantined bytes gone.

The test process publishes to the workers' private broker and queue
(``WorkerProcess.publishing``, ``JOBS_QUEUE``)."""

import io
import signal

import pyarrow.csv as pacsv
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audit.models import AuditEvent
from fairness import services as svc
from fairness.models import BiasSummary, ScoredDataset
from notifications.models import JobMarker
from tests.integration.test_bias_worker import MAPPING, frame
from tests.integration.test_task_outbox import beat_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VALIDATE = "fairness.tasks.scored_dataset_validate"


def _dataset(pk) -> ScoredDataset:
    return ScoredDataset.objects.get(pk=pk)


def test_a_worker_killed_mid_validation_is_resumed_and_publishes_once(
    workers_with, version, data_scientist, settings
):
    out = io.BytesIO()
    pacsv.write_csv(frame(1_500_000), out)
    # the dead run's lease (renewed while it lived) runs out 6 s after its death
    workers = workers_with(BIAS_BATCH_ROWS=5_000, JOBS_LEASE_SECONDS=6)
    workers.env["JOBS_QUEUE"] = workers.queue
    settings.JOBS_QUEUE = workers.queue
    first = workers.start("first")
    with first.publishing():
        dataset, created = svc.scored_dataset_upload(
            version=version,
            by=data_scientist,
            file=ContentFile(out.getvalue(), name="scores.csv"),
            mapping=MAPPING,
            summary={"reference": "best", "min_group_size": 30, "favourable_prediction": 1},
        )
    assert created and dataset.status == "validating"
    quarantined = dataset.file.name
    assert quarantined.startswith("scored-quarantine/") and default_storage.exists(quarantined)
    first.wait_until(
        lambda: 0 < _dataset(dataset.pk).rows_done < 1_500_000,
        timeout=120,
        what="rows validated",
    )
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    half = _dataset(dataset.pk)
    assert half.status == "validating" and not BiasSummary.objects.exists()
    second = workers.start("second")
    beat_until(
        second,
        settings,
        lambda: _dataset(dataset.pk).status != "validating",
        timeout=150,
        what="the validation after the restart",
    )
    done = _dataset(dataset.pk)
    assert done.status == "valid" and done.rows == 1_500_000, done.error
    assert done.file.name == f"scored-data/{done.sha256[:2]}/{done.sha256}.csv"
    # the quarantined copy is deleted just after the publication commits
    second.wait_until(
        lambda: not default_storage.exists(quarantined),
        timeout=30,
        what="the quarantined copy to be deleted",
    )
    assert default_storage.exists(done.file.name)
    validated = AuditEvent.objects.filter(
        action="scored_dataset.validated", object_id=str(dataset.pk)
    )
    assert validated.count() == 1
    # the summary asked for with the upload was requested once, by the uploader
    [summary] = BiasSummary.objects.filter(dataset=done)
    assert summary.requested_by == data_scientist
    # one job, done (the embedded broker's redelivery keeps the task id, which takes
    # over its dead run's lease; with Redis the sweep published it again)
    job = JobMarker.objects.get(task=VALIDATE)
    assert job.done_at is not None
