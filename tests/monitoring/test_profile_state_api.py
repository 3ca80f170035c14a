"""The monitoring configurations in the API show their reference profile's state (issue
18: a worker builds it): queued, building, ready with its rows and columns, failed with
the reason; read-only, in the schema, and no query per row."""

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from monitoring import services as svc
from monitoring.models import ReferenceProfile
from tests.factories import MonitoringConfigFactory
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/monitoring-configs/"
Status = ReferenceProfile.Status


def _asked(config, status=Status.QUEUED, **fields) -> ReferenceProfile:
    """The configuration's profile as the service asks for it, then moved to ``status``
    as the worker would move it."""
    profile = svc.reference_profile_request(config=config)
    ReferenceProfile.objects.filter(pk=profile.pk).update(status=status, **fields)
    return profile


def _state(client, config) -> dict:
    detail = client.get(f"{URL}{config.pk}/")
    assert detail.status_code == 200
    listed = client.get(URL, {"model_version": config.model_version_id})
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["reference_profile"] == detail.json()["reference_profile"]
    return detail.json()["reference_profile"]


def test_never_asked_is_null(auditor):
    config = MonitoringConfigFactory()
    assert _state(api_client(auditor), config) is None


def test_queued_and_building(auditor):
    queued, building = MonitoringConfigFactory(), MonitoringConfigFactory()
    _asked(queued)
    started = timezone.now()
    _asked(building, Status.BUILDING, started_at=started)
    client = api_client(auditor)
    state = _state(client, queued)
    assert state["status"] == "queued" and state["status_display"] == "Queued"
    assert state["reason"] is None and state["rows"] is None and state["built_at"] is None
    assert state["started_at"] is None and state["requested_at"]
    state = _state(client, building)
    assert state["status"] == "building" and state["started_at"] is not None
    assert state["rows"] is None and state["columns"] is None


def test_failed_names_the_reason(auditor):
    config = MonitoringConfigFactory()
    _asked(config, Status.FAILED, error="The reference dataset cannot be profiled: no rows")
    state = _state(api_client(auditor), config)
    assert state["status"] == "failed"
    assert state["reason"] == "The reference dataset cannot be profiled: no rows"
    assert state["rows"] is None


def test_ready_after_the_worker_built_it(config, auditor):
    # ``config`` (tests/monitoring/monitoring_data.py) ran the build task on a real file.
    state = _state(api_client(auditor), config)
    assert state["status"] == "ready" and state["reason"] is None
    assert state["rows"] == 4000
    assert state["columns"] == 4  # age, income, region and the score
    assert state["built_at"] is not None


def test_the_state_cannot_be_written_through_the_api(config, data_scientist, api_client_for):
    before = _state(api_client_for(data_scientist), config)
    response = api_client_for(data_scientist).post(
        URL,
        {
            "model_version": config.model_version_id,
            "reference": config.reference_id,
            "numeric_features": ["age", "income"],
            "categorical_features": ["region"],
            "timestamp_column": "ts",
            "prediction_column": "y_hat",
            "score_column": "score",
            "outcome_column": "y",
            "id_column": "id",
            "sensitive_columns": ["sex"],
            "reference_profile": {"status": "ready", "rows": 1},
        },
        format="json",
    )
    assert response.status_code == 400 and "reference_profile" in str(response.json())
    assert _state(api_client_for(data_scientist), config) == before


def test_no_query_per_row(auditor, django_assert_num_queries):
    client = api_client(auditor)

    def make(states):
        for status in states:
            config = MonitoringConfigFactory()
            if status is not None:
                _asked(config, status)

    make([Status.QUEUED, None])
    assert client.get(URL).status_code == 200
    # token and user, roles, count, rows, their profiles
    with django_assert_num_queries(5):
        assert client.get(URL).status_code == 200
    make([Status.BUILDING, Status.READY, Status.FAILED, None])
    with django_assert_num_queries(5):
        body = client.get(URL).json()
    states = sorted(str((r["reference_profile"] or {}).get("status")) for r in body["results"])
    assert states == ["None", "None", "building", "failed", "queued", "ready"]


def test_the_schema_documents_the_state_read_only(tmp_path):
    target = tmp_path / "schema.json"
    call_command("spectacular", format="openapi-json", file=str(target))
    schema = json.loads(target.read_text())["components"]["schemas"]
    field = schema["MonitoringConfig"]["properties"]["reference_profile"]
    assert field["readOnly"] is True
    state = schema["ReferenceProfileState"]["properties"]
    assert {"status", "reason", "rows", "columns", "requested_at", "started_at", "built_at"} <= set(
        state
    )
    assert "reference_profile" not in schema["MonitoringConfigWriteRequest"]["properties"]
