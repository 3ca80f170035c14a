"""The API answers as its OpenAPI schema says (issue 13): each behaviour Schemathesis
``--checks all`` found wrong, checked here through the DRF client without the fuzzer
(tests/demo/test_api_schemathesis.py and .ci/run step 4c run the fuzzer itself)."""

import functools

import pytest
from drf_spectacular.generators import SchemaGenerator

from inventory.models import Dataset, DatasetColumn, MLModel
from reviews.models import GateCall
from tests.factories import (
    DatasetColumnFactory,
    DatasetFactory,
    ExperimentFactory,
    FindingFactory,
    MLModelFactory,
    ModelVersionFactory,
    UseCaseFactory,
)
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db


@functools.cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


# --- Query values -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2", "3", "maybe"])
def test_a_boolean_filter_refuses_a_value_that_is_not_a_boolean(data_scientist, value):
    UseCaseFactory(team=data_scientist.teams.first(), uses_pii=True)
    response = api_client(data_scientist).get("/api/v1/use-cases/", {"uses_pii": value})
    assert response.status_code == 400
    assert "uses_pii" in response.json()


@pytest.mark.parametrize(("value", "count"), [("true", 1), ("1", 1), ("false", 0), ("no", 0)])
def test_a_boolean_filter_reads_true_and_false(data_scientist, value, count):
    UseCaseFactory(team=data_scientist.teams.first(), uses_pii=True)
    response = api_client(data_scientist).get("/api/v1/use-cases/", {"uses_pii": value})
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_an_empty_filter_value_does_not_filter_and_the_schema_says_so(auditor):
    FindingFactory()
    response = api_client(auditor).get("/api/v1/findings/?status=")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    parameters = {p["name"]: p for p in schema()["paths"]["/api/v1/findings/"]["get"]["parameters"]}
    assert parameters["status"]["allowEmptyValue"] is True
    assert "allowEmptyValue" not in parameters["page"]  # ?page= is a 404


def test_a_nul_character_in_a_search_is_a_400_naming_the_parameter(auditor):
    response = api_client(auditor).get("/api/v1/teams/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}


# --- Methods and status codes ---------------------------------------------------------


def test_options_on_the_classification_describes_its_post(governance_lead):
    use_case = UseCaseFactory()
    response = api_client(governance_lead).options(
        f"/api/v1/use-cases/{use_case.pk}/classification/"
    )
    assert response.status_code == 200
    assert "answers" in response.json()["actions"]["POST"]


def test_options_never_fails_on_any_route(governance_lead):
    client = api_client(governance_lead)
    for path in schema()["paths"]:
        url = path.replace("{id}", "1").replace("{assignment_id}", "1")
        url = url.replace("{seq}", "1").replace("{code}", "x")
        response = client.options(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)


def test_an_assignment_outside_a_run_is_a_documented_409(auditor):
    experiment = ExperimentFactory()  # a draft
    response = api_client(auditor).get(
        f"/api/v1/experiments/{experiment.pk}/assignment/", {"key": "customer-1"}
    )
    assert response.status_code == 409
    assert response.json()["status"] == "draft"
    operation = schema()["paths"]["/api/v1/experiments/{id}/assignment/"]["get"]
    assert "409" in operation["responses"]


# --- Bodies ---------------------------------------------------------------------------


def test_a_number_for_a_text_field_is_refused_and_nothing_is_written(data_scientist):
    model = MLModelFactory(use_case__team=data_scientist.teams.first(), description="kept")
    response = api_client(data_scientist).patch(
        f"/api/v1/models/{model.pk}/", {"description": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"description": ["Must be a string."]}
    assert MLModel.objects.get(pk=model.pk).description == "kept"


def test_text_for_an_id_is_refused(data_scientist):
    use_case = UseCaseFactory(team=data_scientist.teams.first())
    response = api_client(data_scientist).post(
        "/api/v1/models/", {"use_case": str(use_case.pk), "name": "m"}, format="json"
    )
    assert response.status_code == 400
    assert "use_case" in response.json()
    assert not MLModel.objects.filter(use_case=use_case).exists()


def test_the_gate_refuses_a_number_for_the_environment_and_logs_the_call(approver):
    version = ModelVersionFactory()
    response = api_client(approver).post(
        "/api/v1/gate/", {"model_version": version.pk, "environment": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["allowed"] is False
    assert GateCall.objects.filter(caller=approver, allowed=False).count() == 1


def test_a_form_cannot_carry_a_datasets_columns(data_scientist):
    dataset = DatasetFactory(team=data_scientist.teams.first(), owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="age")
    response = api_client(data_scientist).patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"description": "changed", "columns": '[{"name": "income"}]'},
        format="multipart",
    )
    assert response.status_code == 400
    assert "application/json" in response.json()["columns"][0]
    assert list(DatasetColumn.objects.filter(dataset=dataset).values_list("name", flat=True)) == [
        "age"
    ]
    assert Dataset.objects.get(pk=dataset.pk).description != "changed"


def test_columns_in_a_json_body_still_replace_the_list(data_scientist):
    dataset = DatasetFactory(team=data_scientist.teams.first(), owner=data_scientist)
    response = api_client(data_scientist).patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"columns": [{"name": "income", "data_type": "float", "is_pii": False}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [c["name"] for c in response.json()["columns"]] == ["income"]


def test_a_field_named_detail_in_error_is_within_the_error_schema(risk_officer):
    response = api_client(risk_officer).post(
        "/api/v1/findings/",
        {"model_version": 0, "title": "t", "detail": "not json"},
        format="multipart",
    )
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)
    error = schema()["paths"]["/api/v1/findings/"]["post"]["responses"]["400"]
    detail = error["content"]["application/json"]["schema"]["properties"]["detail"]
    assert {"type": "array", "items": {"type": "string"}} in detail["oneOf"]
