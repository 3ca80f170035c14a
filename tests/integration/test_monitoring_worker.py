"""Monitoring windows computed by a real Celery worker process (issue #6): the task
sent through the broker computes every complete window on the committed test database,
and a second run writes the same windows and opens no second alert (idempotent)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from monitoring import services as svc
from monitoring.models import DriftAlert, MonitoringWindow
from monitoring.tasks import monitoring_compute, reference_profile_build
from tests.factories import ModelVersionFactory, UseCaseFactory
from tests.integration.test_bias_worker import Workers
from tests.monitoring import monitoring_data as data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_worker_computes_the_windows_once(tmp_path, media, team, data_scientist):
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    config = data.configure(
        version, data_scientist, data.reference_dataset(version, data_scientist)
    )
    monday = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday -= dt.timedelta(days=monday.weekday() + 21)
    for i, shift in enumerate((0.0, 0.0, 1.0)):
        body = data.csv_bytes(
            data.rows(
                700,
                seed=i + 2,
                start=monday + dt.timedelta(days=7 * i),
                days=7,
                shift=shift,
                id_start=1000 * i,
            )
        )
        svc.monitoring_batch_upload(
            config=config, by=data_scientist, file=ContentFile(body, name=f"b{i}.csv")
        )
    data.validate_batches()  # each batch checked and published, as its worker would
    workers = Workers(tmp_path, media, {})
    try:
        worker = workers.start("monitoring")
        first = worker.result_of(worker.send(monitoring_compute, config_id=config.pk), timeout=120)
        assert first["windows"] == 3 and first["failed"] == 0 and first["alerts_opened"] >= 1
        windows = {w.start: (w.rows, w.drifted) for w in MonitoringWindow.objects.all()}
        assert [rows for rows, _ in windows.values()] == [700, 700, 700]
        assert "age" in list(windows.values())[2][1]
        alerts = set(DriftAlert.objects.values_list("pk", "feature", "kind"))
        second = worker.result_of(worker.send(monitoring_compute, config_id=config.pk), timeout=120)
        assert second["windows"] == 3 and second["alerts_opened"] == 0
        assert {w.start: (w.rows, w.drifted) for w in MonitoringWindow.objects.all()} == windows
        assert set(DriftAlert.objects.values_list("pk", "feature", "kind")) == alerts
        assert MonitoringWindow.objects.count() == 3
    finally:
        workers.stop_all()


def test_a_worker_builds_the_reference_profile_the_save_asked_for(
    tmp_path, media, team, data_scientist
):
    """Issue 18: the save leaves the profile queued; the worker process builds it, sets
    the floors, and a second delivery of the same message changes nothing."""
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    config = data.configure(
        version, data_scientist, data.reference_dataset(version, data_scientist), build=False
    )
    profile = svc.reference_profile_of(config)
    assert profile.status == "queued" and config.thresholds["performance_min"] == {}
    workers = Workers(tmp_path, media, {})
    try:
        worker = workers.start("profiles")
        result = worker.result_of(
            worker.send(reference_profile_build, profile_id=profile.pk), timeout=120
        )
        assert result["status"] == "ready" and result["rows"] == 4000
        profile.refresh_from_db()
        config.refresh_from_db()
        assert profile.status == "ready" and profile.parts.count() == 4
        assert set(config.thresholds["performance_min"]) == {
            "accuracy",
            "precision",
            "recall",
            "roc_auc",
        }
        built_at = profile.built_at
        again = worker.result_of(
            worker.send(reference_profile_build, profile_id=profile.pk), timeout=120
        )
        assert again["status"] == "ready or gone"
        profile.refresh_from_db()
        assert profile.built_at == built_at and profile.parts.count() == 4
    finally:
        workers.stop_all()
