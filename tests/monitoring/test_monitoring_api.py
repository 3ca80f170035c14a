"""Monitoring API (issue #6): configurations, batches and outcomes (multipart or JSON
rows), windows with their results, alerts with acknowledge/resolve; 400 for bad input,
403 for people who may not, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import DriftAlert, MonitoringBatch, MonitoringConfig, MonitoringWindow
from tests.monitoring.monitoring_data import csv_bytes, reference_dataset, rows, validate_batches
from tests.monitoring.test_monitoring_services import START, compute, stable_then_shift

pytestmark = pytest.mark.django_db

BASE = "/api/v1/"


def test_create_a_configuration(world, data_scientist, auditor, api_client_for, media):
    _, version = world
    ref = reference_dataset(version, data_scientist)
    body = {
        "model_version": version.pk,
        "reference": ref.pk,
        "numeric_features": ["age"],
        "categorical_features": ["region"],
        "timestamp_column": "ts",
        "prediction_column": "y_hat",
        "score_column": "score",
        "outcome_column": "y",
        "id_column": "id",
        "sensitive_columns": ["sex"],
    }
    assert (
        api_client_for(auditor).post(f"{BASE}monitoring-configs/", body, format="json").status_code
        == 403
    )
    bad = api_client_for(data_scientist).post(
        f"{BASE}monitoring-configs/", {**body, "numeric_features": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and "nope" in str(bad.json())
    response = api_client_for(data_scientist).post(
        f"{BASE}monitoring-configs/", body, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["cadence"] == "weekly"
    again = api_client_for(data_scientist).post(f"{BASE}monitoring-configs/", body, format="json")
    assert again.status_code == 200 and MonitoringConfig.objects.count() == 1


def test_batches_outcomes_windows_and_alerts(
    config, data_scientist, approver, auditor, api_client_for, django_capture_on_commit_callbacks
):
    ds = api_client_for(data_scientist)
    data = rows(300, seed=2, start=START, days=7, id_start=50_000)
    url = f"{BASE}monitoring-configs/{config.pk}/batches/"
    upload = ds.post(
        url, {"file": SimpleUploadedFile("b.csv", csv_bytes(data))}, format="multipart"
    )
    assert upload.status_code == 202 and upload.json()["status"] == "validating"
    validate_batches()
    state = ds.get(f"{BASE}scored-datasets/{upload.json()['dataset']}/").json()
    assert state["status"] == "valid" and state["rows"] == 300
    json_rows = [
        {
            "id": "j1",
            "ts": START.isoformat(),
            "age": 41.0,
            "income": 20000.0,
            "region": "north",
            "sex": "F",
            "score": 0.4,
            "y_hat": 0,
        }
    ]
    assert ds.post(url, {"rows": json_rows}, format="json").status_code == 202
    naive = [{**json_rows[0], "ts": "2026-02-03T10:00:00", "id": "j2"}]
    bad = ds.post(url, {"rows": naive}, format="json")
    assert bad.status_code == 202
    validate_batches()
    refused = ds.get(f"{BASE}scored-datasets/{bad.json()['dataset']}/").json()
    assert refused["status"] == "rejected" and "time zone" in refused["error"]
    assert refused["validation"]["error_column"] == "ts" and refused["validation"]["error_row"] == 1
    assert ds.post(url, {}, format="json").status_code == 400
    assert api_client_for(auditor).post(url, {"rows": json_rows}, format="json").status_code == 403
    known = zip(data["id"][:100], data["y"][:100], strict=True)
    payload = [{"id": i, "y": int(y)} for i, y in known] + [{"id": "ghost", "y": 1}]
    outcomes = ds.post(
        f"{BASE}monitoring-configs/{config.pk}/outcomes/", {"rows": payload}, format="json"
    )
    assert outcomes.status_code == 202
    validate_batches()
    received = MonitoringBatch.objects.get(pk=outcomes.json()["id"])
    assert received.matched_rows == 100
    assert "unknown prediction ids" in received.problems[0]
    stable_then_shift(config, data_scientist)
    compute(config, django_capture_on_commit_callbacks)
    windows = api_client_for(auditor).get(f"{BASE}monitoring-windows/?config={config.pk}").json()
    assert windows["count"] == MonitoringWindow.objects.count() == 4
    assert "results" not in windows["results"][0]
    first = api_client_for(auditor).get(f"{BASE}monitoring-windows/{windows['results'][0]['id']}/")
    assert first.json()["results"]["performance"]["rows_with_outcome"] == 100
    alerts = (
        api_client_for(auditor).get(f"{BASE}drift-alerts/?config={config.pk}&status=open").json()
    )
    assert alerts["count"] == DriftAlert.objects.count() >= 2
    alert_id = next(a["id"] for a in alerts["results"] if a["feature"] == "age")
    assert api_client_for(auditor).get(f"{BASE}drift-alerts/?status=bogus").status_code == 400
    ack = f"{BASE}drift-alerts/{alert_id}/acknowledge/"
    assert api_client_for(auditor).post(ack, {"reason": "x"}, format="json").status_code == 403
    assert api_client_for(approver).post(ack, {}, format="json").status_code == 400
    done = api_client_for(approver).post(ack, {"reason": "On it"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    resolved = api_client_for(approver).post(
        f"{BASE}drift-alerts/{alert_id}/resolve/", {"reason": "Retrained"}, format="json"
    )
    assert [e["action"] for e in resolved.json()["events"]][-2:] == ["acknowledged", "resolved"]
    again = api_client_for(approver).post(
        f"{BASE}drift-alerts/{alert_id}/resolve/", {"reason": "twice"}, format="json"
    )
    assert again.status_code == 400
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = api_client_for(approver).post(f"{BASE}monitoring-configs/{config.pk}/recompute/")
    assert r.status_code == 202 and len(callbacks) == 1
