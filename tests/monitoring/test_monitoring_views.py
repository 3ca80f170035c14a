"""Monitoring pages (issue #6) through the client: who reads, who configures and sends
data, the charts on the page, the alert forms with their history, a 400 with the
reason on bad input, and the links from the version page and the home page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.models import DriftAlert, MonitoringBatch
from tests.monitoring.monitoring_data import csv_bytes, rows, validate_batches
from tests.monitoring.test_monitoring_services import START, compute, stable_then_shift

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(config, data_scientist, django_capture_on_commit_callbacks):
    stable_then_shift(config, data_scientist)
    compute(config, django_capture_on_commit_callbacks)
    return config


def test_everyone_with_a_role_reads_the_page_with_its_charts(
    computed, client_for, users_by_role, no_role_user
):
    url = reverse("monitoring:monitoring", args=[computed.model_version_id])
    for role, user in users_by_role.items():
        page = client_for(user).get(url)
        assert page.status_code == 200, role
        html = page.content.decode()
        for chart in ("chart-heatmap-data", "chart-distribution-data"):
            assert f'id="{chart}"' in html
        assert ('id="monitoring-config-form"' in html) is (
            role in ("data-scientist", "governance-lead")
        )
        can_handle = role in (
            "risk-officer",
            "governance-lead",
            "approver",
        )  # approver: monitoring A
        assert ("monitoring-alert-resolve" in html or "/resolve/" in html) is can_handle, role
        assert "<script>" not in html  # strict CSP: no inline script
    assert client_for(no_role_user).get(url).status_code == 403
    page = client_for(users_by_role["auditor"]).get(f"{url}?metric=pvalue&feature=region")
    assert page.status_code == 200 and b"-log10" in page.content


def test_the_version_page_and_the_home_page_link_to_monitoring(computed, client_for, auditor):
    url = reverse("monitoring:monitoring", args=[computed.model_version_id])
    version_page = client_for(auditor).get(
        reverse("reviews:version", args=[computed.model_version_id])
    )
    assert url.encode() in version_page.content
    home = client_for(auditor).get("/")
    assert b"Monitoring alerts" in home.content
    alert = DriftAlert.objects.filter(status="open").first()
    assert f"{url}#alert-{alert.pk}".encode() in home.content


def test_acknowledge_and_resolve_through_the_page(computed, client_for, approver, auditor):
    alert = DriftAlert.objects.get(feature="age", kind="input")
    ack = reverse("monitoring:monitoring-alert-acknowledge", args=[alert.pk])
    assert client_for(auditor).post(ack, {"reason": "x"}).status_code == 403
    assert client_for(approver).post(ack, {"reason": ""}).status_code == 400
    response = client_for(approver).post(ack, {"reason": "Looking into the new campaign"})
    assert response.status_code == 302
    resolve = reverse("monitoring:monitoring-alert-resolve", args=[alert.pk])
    client_for(approver).post(resolve, {"reason": "Expected: new market"})
    alert.refresh_from_db()
    assert alert.status == "resolved"
    page = client_for(auditor).get(
        reverse("monitoring:monitoring", args=[computed.model_version_id])
    )
    assert (
        b"Looking into the new campaign" in page.content and b"Expected: new market" in page.content
    )


def test_configure_and_send_data_through_the_page(
    config, client_for, data_scientist, auditor, django_capture_on_commit_callbacks
):
    version_id = config.model_version_id
    url = reverse("monitoring:monitoring-batch", args=[version_id])
    body = csv_bytes(rows(200, seed=2, start=START, days=7))
    assert (
        client_for(auditor)
        .post(url, {"kind": "production", "file": SimpleUploadedFile("b.csv", body)})
        .status_code
        == 403
    )
    naive = rows(20, seed=2, start=START)
    naive["ts"] = [t[:19] for t in naive["ts"]]
    response = client_for(data_scientist).post(
        url, {"kind": "production", "file": SimpleUploadedFile("n.csv", csv_bytes(naive))}
    )
    # received at once, then a worker checks every row: the page shows the progress
    assert response.status_code == 302
    page = client_for(auditor).get(reverse("monitoring:monitoring", args=[version_id]))
    assert b"data-status-url" in page.content and b"js/progress.js" in page.content
    validate_batches()
    # ... and, once rejected, the reason with its column and row; nothing is published
    page = client_for(auditor).get(reverse("monitoring:monitoring", args=[version_id]))
    assert b"Rejected" in page.content and b"time zone" in page.content
    assert b"Column &#x27;ts&#x27;, row 1:" in page.content
    assert b"js/progress.js" not in page.content
    [naive_batch] = MonitoringBatch.objects.all()
    assert naive_batch.dataset.status == "rejected" and naive_batch.rows == 0
    response = client_for(data_scientist).post(
        url, {"kind": "production", "file": SimpleUploadedFile("b.csv", body)}
    )
    assert response.status_code == 302 and MonitoringBatch.objects.count() == 2
    configure = reverse("monitoring:monitoring-configure", args=[version_id])
    response = client_for(data_scientist).post(
        configure,
        {
            "reference": config.reference_id,
            "numeric_features": "age, salary",
            "timestamp_column": "ts",
            "prediction_column": "y_hat",
            "performance_max_drop": "0.05",
        },
    )
    assert response.status_code == 400 and b"salary" in response.content
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(data_scientist).post(
            reverse("monitoring:monitoring-recompute", args=[version_id])
        )
    assert response.status_code == 302 and len(callbacks) == 1
    assert (
        client_for(auditor)
        .post(reverse("monitoring:monitoring-recompute", args=[version_id]))
        .status_code
        == 403
    )


def test_a_window_with_outcomes_shows_performance_by_group(
    config, client_for, data_scientist, auditor, django_capture_on_commit_callbacks
):
    import datetime as dt

    from monitoring.models import MonitoringWindow
    from tests.monitoring.monitoring_data import send

    data = rows(1400, seed=2, start=START, days=7)
    send(config, data_scientist, data)
    outcomes = {"id": data["id"][:1000], "y": list(data["y"][:1000])}
    send(config, data_scientist, outcomes, name="outcomes.csv", kind="outcomes")
    compute(config, django_capture_on_commit_callbacks)
    window = MonitoringWindow.objects.get(start=dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    url = reverse("monitoring:monitoring", args=[config.model_version_id])
    html = client_for(auditor).get(f"{url}?window={window.pk}").content.decode()
    assert 'id="window-performance"' in html
    assert "All rows" in html and ">F<" in html and ">M<" in html
