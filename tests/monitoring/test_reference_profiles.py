"""Reference profiles built by a worker (issue 18): saving a configuration answers at
once with the profile queued; the page shows it queued, then ready (with the floors) or
failed with the reason; windows wait for it and are queued when it is ready; the stored
profile, built batch by batch and kept column by column, equals the profile and the
performance of the whole file; and profiles stored as JSON before move into the parts."""

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse

from core import drift
from monitoring import services as svc
from monitoring.models import MonitoringConfig, MonitoringWindow, ReferenceProfile
from monitoring.tasks import reference_profile_build
from notifications.models import JobMarker
from tests.monitoring.monitoring_data import (
    NOW,
    build_profile,
    configure,
    reference_dataset,
    rows,
    send,
)

pytestmark = pytest.mark.django_db

START = NOW - dt.timedelta(days=28)
FORM = {
    "numeric_features": "age, income",
    "categorical_features": "region",
    "timestamp_column": "ts",
    "prediction_column": "y_hat",
    "score_column": "score",
    "outcome_column": "y",
    "id_column": "id",
    "sensitive_columns": "sex",
    "performance_max_drop": "0.05",
}


@pytest.fixture
def reference(world, data_scientist, media):
    _, version = world
    return reference_dataset(version, data_scientist)


def page(client, version_id):
    return client.get(reverse("monitoring:monitoring", args=[version_id])).content.decode()


def test_saving_answers_at_once_and_the_page_follows_the_profile_to_ready(
    world, reference, client_for, data_scientist, auditor, django_capture_on_commit_callbacks
):
    _, version = world
    url = reverse("monitoring:monitoring-configure", args=[version.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(data_scientist).post(url, {**FORM, "reference": reference.pk})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the build's message, published after commit
    profile = ReferenceProfile.objects.get()
    assert profile.status == "queued" and not profile.parts.exists()
    job = JobMarker.objects.get(task="monitoring.tasks.reference_profile_build")
    assert job.kwargs == {"profile_id": profile.pk} and job.done_at is None
    config = MonitoringConfig.objects.get()
    assert config.thresholds["performance_min"] == {}  # the floors wait for the profile
    html = page(client_for(auditor), version.pk)
    assert 'data-status="queued"' in html and "queued for a worker" in html

    reference_profile_build(profile_id=profile.pk)  # what the worker runs

    profile.refresh_from_db()
    job.refresh_from_db()
    assert profile.status == "ready" and profile.rows == 4000 and job.done_at is not None
    config.refresh_from_db()
    assert set(config.thresholds["performance_min"]) == {
        "accuracy",
        "precision",
        "recall",
        "roc_auc",
    }
    html = page(client_for(auditor), version.pk)
    assert 'data-status="ready"' in html and "Performance floors" in html
    # saved again with the same columns: the profile is found, ready, with its floors
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(data_scientist).post(url, {**FORM, "reference": reference.pk})
    assert callbacks == [] and ReferenceProfile.objects.count() == 1
    config.refresh_from_db()
    assert config.thresholds["performance_min"]["accuracy"] > 0


def test_an_unreadable_reference_fails_the_profile_with_the_reason_on_the_page(
    world, reference, client_for, data_scientist, auditor, media
):
    _, version = world
    (media / reference.file.name).write_bytes(b"age,income\n1,2\n")  # a storage fault
    url = reverse("monitoring:monitoring-configure", args=[version.pk])
    response = client_for(data_scientist).post(url, {**FORM, "reference": reference.pk})
    assert response.status_code == 302
    profile = ReferenceProfile.objects.get()
    reference_profile_build(profile_id=profile.pk)
    profile.refresh_from_db()
    assert profile.status == "failed"
    assert "cannot be profiled" in profile.error and "'region'" in profile.error
    html = page(client_for(auditor), version.pk)
    assert 'data-status="failed"' in html and "Reference profile failed" in html
    assert "cannot be profiled" in html
    # asked again (a recomputation, or the configuration saved again): tried again
    svc.reference_profile_request(config=MonitoringConfig.objects.get())
    profile.refresh_from_db()
    assert profile.status == "queued" and profile.error == ""


def test_windows_wait_for_the_profile_and_are_queued_when_it_is_ready(
    world, reference, data_scientist, django_capture_on_commit_callbacks
):
    _, version = world
    config = configure(version, data_scientist, reference, build=False)
    send(config, data_scientist, rows(1400, seed=2, start=START, days=14))
    run = svc.monitoring_compute(config_id=config.pk, now=NOW)
    assert run["windows"] == 0 and run["waiting"] and "Waiting" in run["error"]
    assert not MonitoringWindow.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        build_profile(config)
    job = JobMarker.objects.get(task="reviews.tasks.monitoring_compute")
    assert job.kwargs == {"config_id": config.pk} and job.done_at is None
    with django_capture_on_commit_callbacks(execute=False):
        run = svc.monitoring_compute(config_id=config.pk, now=NOW)
    assert run["windows"] == 4 and run.get("error") is None
    assert MonitoringWindow.objects.filter(status="ok").count() == 3


def test_the_profile_built_batch_by_batch_equals_the_whole_file(
    world, reference, data_scientist, settings
):
    settings.MONITORING_PROFILE_BATCH_ROWS = 700  # six batches of the 4,000 rows, merged
    _, version = world
    config = configure(version, data_scientist, reference)
    profile = svc.reference_profile_of(config)
    stored = svc.reference_profile_load(profile)
    data = rows(4000, seed=1)
    whole = drift.profile_build(
        {k: np.asarray(data[k]) for k in ("age", "income", "score", "region")},
        numeric=["age", "income", "score"],
        categorical=["region"],
    )
    assert stored.rows == whole.rows == 4000
    assert list(stored.features) == list(whole.features)
    for name, f in whole.features.items():
        g = stored.features[name]
        if f.kind == "numeric":
            assert np.array_equal(g.values, f.values) and np.array_equal(g.counts, f.counts)
            assert np.array_equal(g.edges, f.edges)
            assert np.array_equal(g.proportions, f.proportions)
        else:
            assert g.categories == f.categories and np.array_equal(g.counts, f.counts)
    expected = drift.performance(data["y"], data["y_hat"], score=data["score"])
    assert profile.performance == expected
    # the summary a page reads
    assert profile.summary["features"]["region"] == {
        "kind": "categorical",
        "n": 4000,
        "missing": 0,
        "distinct": 4,
    }


def test_a_build_that_is_given_up_is_shown_failed(world, reference, data_scientist):
    _, version = world
    config = configure(version, data_scientist, reference, build=False)
    profile = svc.reference_profile_of(config)
    svc.reference_profile_given_up({"profile_id": profile.pk}, 5, "WorkerLostError: killed")
    profile.refresh_from_db()
    assert profile.status == "failed" and "after 5 attempts" in profile.error
