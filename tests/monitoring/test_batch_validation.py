"""Production batches are validated by a worker (issue 18): the request checks what the
first bytes tell and answers 202 with the batch in quarantine; the worker reads every
row once and publishes the batch (only then are its windows queued) or rejects it with
the column and row. Nothing reads a batch before it is published: not the windows, not
the downloads, not the data scientist asking for a recomputation through the API."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from fairness.models import ScoredDataset
from monitoring import services as svc
from monitoring.models import MonitoringBatch, MonitoringWindow
from monitoring.services.batch_validation import monitoring_batch_given_up
from monitoring.services.batch_validation import monitoring_batch_validate as validate
from monitoring.tasks import monitoring_batch_validate, monitoring_compute
from notifications.models import JobMarker
from tests.monitoring.monitoring_data import NOW, csv_bytes, rows, validate_batches
from tests.outbox import queued

pytestmark = pytest.mark.django_db

BASE = "/api/v1/"
START = NOW - dt.timedelta(days=28)


def _post(client, config, body: bytes, name="batch.csv", kind="batches"):
    return client.post(
        f"{BASE}monitoring-configs/{config.pk}/{kind}/",
        {"file": SimpleUploadedFile(name, body)},
        format="multipart",
    )


def _nothing_published(config) -> None:
    """No batch published, no window computation queued."""
    published = MonitoringBatch.objects.filter(dataset__status=ScoredDataset.Status.VALID)
    assert not published.exists()
    assert queued(monitoring_compute) == []


def _nothing_stored() -> None:
    assert not MonitoringBatch.objects.exists()
    assert not ScoredDataset.objects.filter(purpose="production").exists()
    assert queued(monitoring_batch_validate) == []


def test_a_batch_is_published_by_the_worker_and_only_then_its_windows_are_queued(
    config, data_scientist, api_client_for
):
    ds = api_client_for(data_scientist)
    response = _post(ds, config, csv_bytes(rows(300, seed=2, start=START, days=7)))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "validating" and body["validation"]["rows_done"] == 0
    batch = MonitoringBatch.objects.get(pk=body["id"])
    assert batch.dataset.file.name.startswith("scored-quarantine/")
    _nothing_published(config)
    [done] = validate_batches()
    assert done["status"] == "valid" and done["batch"] == batch.pk
    batch.refresh_from_db()
    assert batch.rows == 300 and batch.dataset.status == "valid"
    assert batch.dataset.file.name.startswith("scored-data/")
    assert queued(monitoring_compute) == [{"config_id": config.pk}]
    state = ds.get(f"{BASE}scored-datasets/{batch.dataset_id}/").json()
    assert state["status"] == "valid" and state["validation"]["percent"] == 100.0


def test_a_bad_last_row_rejects_the_batch_with_its_column_and_row(
    config, data_scientist, api_client_for, settings
):
    settings.MONITORING_BATCH_ROWS = 100  # the bad row is in the last of several batches
    data = rows(450, seed=2, start=START, days=7)
    data["ts"][-1] = "yesterday"
    response = _post(api_client_for(data_scientist), config, csv_bytes(data))
    assert response.status_code == 202
    quarantined = MonitoringBatch.objects.get().dataset.file.name
    [done] = validate_batches()
    assert done["status"] == "rejected"
    dataset = ScoredDataset.objects.get(pk=response.json()["dataset"])
    assert (dataset.error_column, dataset.error_row) == ("ts", 450)
    assert "'yesterday' is not a date-time" in dataset.error
    assert not dataset.file and not default_storage.exists(quarantined)
    _nothing_published(config)


def test_a_value_of_the_wrong_type_rejects_the_batch(config, data_scientist, api_client_for):
    data = rows(120, seed=2, start=START, days=7)
    data["score"] = [str(v) for v in data["score"]]
    data["score"][57] = "high"
    response = _post(api_client_for(data_scientist), config, csv_bytes(data))
    assert response.status_code == 202
    validate_batches()
    dataset = ScoredDataset.objects.get(pk=response.json()["dataset"])
    assert dataset.status == "rejected" and "'high' is not a number" in dataset.error
    assert (dataset.error_column, dataset.error_row) == ("score", 58)
    _nothing_published(config)


@pytest.mark.parametrize(
    "case",
    ["missing column", "empty file", "too big", "header only"],
)
def test_what_the_first_bytes_tell_is_refused_at_once_and_nothing_is_stored(
    case, config, data_scientist, api_client_for, settings
):
    data = rows(50, seed=2, start=START, days=7)
    body = {
        "missing column": csv_bytes({k: v for k, v in data.items() if k != "ts"}),
        "empty file": b"",
        "too big": csv_bytes(data),
        "header only": b"id,ts,score,y_hat\n",
    }[case]
    if case == "too big":
        settings.SCORED_DATA_MAX_BYTES = len(body) - 1
    response = _post(api_client_for(data_scientist), config, body)
    assert response.status_code == 400, response.content
    message = str(response.json())
    expected = {
        "missing column": "no column 'ts'",
        "empty file": "empty",
        "too big": "over the limit",
        "header only": "no data rows",
    }[case]
    assert expected in message
    _nothing_stored()


def test_no_drift_is_computed_from_a_batch_in_quarantine_or_rejected(
    config, data_scientist, api_client_for
):
    """The data scientist asks for the windows through the API while the batch waits in
    quarantine, and again after it was rejected: no window counts its rows, and its
    bytes cannot be downloaded."""
    ds = api_client_for(data_scientist)
    waiting = _post(ds, config, csv_bytes(rows(200, seed=2, start=START, days=7)), name="w.csv")
    bad = rows(200, seed=3, start=START, days=7, id_start=5000)
    bad["ts"][-1] = "2026-02-03T10:00:00"  # no zone
    rejected = _post(ds, config, csv_bytes(bad), name="r.csv")
    assert waiting.status_code == rejected.status_code == 202
    # the rejected one is checked first; the other stays in quarantine
    assert validate(dataset_id=rejected.json()["dataset"])["status"] == "rejected"
    assert ds.post(f"{BASE}monitoring-configs/{config.pk}/recompute/").status_code == 202
    run = svc.monitoring_compute(config_id=config.pk, now=NOW)
    assert not run.get("batch_problems")
    assert sum(MonitoringWindow.objects.values_list("rows", flat=True)) == 0
    for batch in (waiting, rejected):
        download = ds.get(f"{BASE}scored-datasets/{batch.json()['dataset']}/download/")
        assert download.status_code == 409
    # published at last, its rows are counted
    validate_batches()
    svc.monitoring_compute(config_id=config.pk, now=NOW)
    assert sum(MonitoringWindow.objects.values_list("rows", flat=True)) == 200


def test_the_outbox_gives_up_a_batch_whose_runs_keep_dying(config, data_scientist):
    """A batch whose validation never finishes is rejected by the sweep's give-up hook,
    its quarantined bytes deleted, rather than left validating."""
    batch, _ = svc.monitoring_batch_upload(
        config=config,
        by=data_scientist,
        file=SimpleUploadedFile("b.csv", csv_bytes(rows(50, seed=2, start=START, days=7))),
        now=NOW,
    )
    quarantined = batch.dataset.file.name
    job = JobMarker.objects.get(task=monitoring_batch_validate.name)
    monitoring_batch_given_up(job.kwargs, 5, "WorkerLostError")
    batch.dataset.refresh_from_db()
    assert batch.dataset.status == "rejected" and "after 5 attempts" in batch.dataset.error
    assert not default_storage.exists(quarantined)
    _nothing_published(config)
