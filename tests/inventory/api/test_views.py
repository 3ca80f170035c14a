"""The inventory API through APIClient: role x endpoint x method permissions,
idempotent version registration, bad input, filtering, pagination, query counts."""

import json

import pytest
from rest_framework.test import APIClient

from governance.models import Classification
from governance.services import classification_submit
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Regulation, UseCase
from tests.factories import (
    DatasetColumnFactory,
    DatasetFactory,
    MLModelFactory,
    ModelVersionFactory,
    UseCaseFactory,
    full_answers,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def world(team, data_scientist, governance_lead):
    """One use case of the data scientist's team, classified, with a model, a
    version and a dataset."""
    dataset = DatasetFactory(name="applications", team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="income", is_pii=True)
    use_case = UseCaseFactory(
        name="Mortgage PD",
        team=team,
        business_owner=governance_lead,
        technical_owner=data_scientist,
        uses_pii=True,  # its dataset has a PII column (issue 12: facts are cross-checked)
    )
    use_case.datasets.set([dataset])
    use_case.regulations.set(Regulation.objects.filter(code="gdpr"))
    classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    ml_model = MLModelFactory(use_case=use_case, name="pd-gbm")
    version = ModelVersionFactory(model=ml_model, version_label="1.0", artifact_sha256=SHA_A)
    return {"use_case": use_case, "model": ml_model, "version": version, "dataset": dataset}


def use_case_payload(**overrides):
    payload = {
        "name": "Card fraud",
        "purpose": "Flag card transactions for review.",
        "team": "credit-risk",
        "business_owner": "lead",
        "technical_owner": "ds",
        "status": "development",
        "regulations": ["gdpr", "sr-11-7"],
        "uses_pii": True,
    }
    payload.update(overrides)
    return payload


def version_payload(model_id, **overrides):
    payload = {
        "model": model_id,
        "version_label": "2.0",
        "artifact_uri": "s3://models/pd/2.0/model.pkl",
        "artifact_sha256": SHA_B,
        "framework": "xgboost 3.0",
        "metrics": {"auc": 0.84},
    }
    payload.update(overrides)
    return payload


def dataset_payload(**overrides):
    payload = {
        "name": "bureau-scores",
        "source": "bureau.scores",
        "provenance": "Monthly file from the credit bureau.",
        "owner": "ds",
        "team": "credit-risk",
        "columns": [
            {"name": "customer_id", "data_type": "int", "is_pii": True},
            {"name": "score", "data_type": "float", "lineage_notes": "bureau model v7"},
        ],
    }
    payload.update(overrides)
    return payload


# --- Role x endpoint x method ----------------------------------------------------

ROLES = ["data_scientist", "governance_lead", "risk_officer", "approver", "auditor"]
ALL_ROLES = [*ROLES, "other_data_scientist"]

READS = [
    lambda w: f"{API}/use-cases/",
    lambda w: f"{API}/use-cases/{w['use_case'].pk}/",
    lambda w: f"{API}/use-cases/{w['use_case'].pk}/classification/",
    lambda w: f"{API}/use-cases/{w['use_case'].pk}/classifications/",
    lambda w: f"{API}/teams/",
    lambda w: f"{API}/models/",
    lambda w: f"{API}/models/{w['model'].pk}/",
    lambda w: f"{API}/model-versions/",
    lambda w: f"{API}/model-versions/{w['version'].pk}/",
    lambda w: f"{API}/datasets/",
    lambda w: f"{API}/datasets/{w['dataset'].pk}/",
    lambda w: f"{API}/regulations/",
    lambda w: f"{API}/risk-questions/",
    lambda w: f"{API}/risk-rules/",
]

# name: (method, url, payload, expected status per ALL_ROLES)
OWN_TEAM_WRITE = (201, 201, 403, 403, 403, 403)
OWN_TEAM_CHANGE = (200, 200, 403, 403, 403, 403)
WRITES = {
    "use-case create": (
        "post",
        lambda w: f"{API}/use-cases/",
        lambda w: use_case_payload(),
        OWN_TEAM_WRITE,
    ),
    "use-case patch": (
        "patch",
        lambda w: f"{API}/use-cases/{w['use_case'].pk}/",
        lambda w: {"status": "retired"},
        OWN_TEAM_CHANGE,
    ),
    "use-case put": (
        "put",
        lambda w: f"{API}/use-cases/{w['use_case'].pk}/",
        lambda w: use_case_payload(name="Mortgage PD"),
        OWN_TEAM_CHANGE,
    ),
    "use-case delete": (
        "delete",
        lambda w: f"{API}/use-cases/{w['use_case'].pk}/",
        lambda w: None,
        (405, 405, 405, 403, 403, 405),
    ),
    "classify": (
        "post",
        lambda w: f"{API}/use-cases/{w['use_case'].pk}/classification/",
        lambda w: {"answers": full_answers(audience="customers")},
        (201, 201, 201, 403, 403, 403),
    ),
    "model create": (
        "post",
        lambda w: f"{API}/models/",
        lambda w: {"use_case": w["use_case"].pk, "name": "pd-logit"},
        OWN_TEAM_WRITE,
    ),
    "model patch": (
        "patch",
        lambda w: f"{API}/models/{w['model'].pk}/",
        lambda w: {"description": "Gradient-boosted PD model."},
        OWN_TEAM_CHANGE,
    ),
    "version register": (
        "post",
        lambda w: f"{API}/model-versions/",
        lambda w: version_payload(w["model"].pk),
        OWN_TEAM_WRITE,
    ),
    "version metrics": (
        "patch",
        lambda w: f"{API}/model-versions/{w['version'].pk}/",
        lambda w: {"metrics": {"ks": 0.41}},
        OWN_TEAM_CHANGE,
    ),
    "dataset create": (
        "post",
        lambda w: f"{API}/datasets/",
        lambda w: dataset_payload(),
        OWN_TEAM_WRITE,
    ),
    "dataset patch": (
        "patch",
        lambda w: f"{API}/datasets/{w['dataset'].pk}/",
        lambda w: {"description": "Loan applications."},
        OWN_TEAM_CHANGE,
    ),
    "regulation create": (
        "post",
        lambda w: f"{API}/regulations/",
        lambda w: {"code": "x", "name": "X"},
        (405, 405, 405, 403, 403, 405),
    ),
}


def call(client, method, url, payload):
    return getattr(client, method)(url, payload, format="json")


@pytest.mark.parametrize("url", READS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_everything(request, world, api_client_for, role, url):
    client = api_client_for(request.getfixturevalue(role))
    assert client.get(url(world)).status_code == 200


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [
        (name, role, expected)
        for name, (_, _, _, codes) in WRITES.items()
        for role, expected in zip(ALL_ROLES, codes, strict=True)
    ],
)
def test_write_permissions_by_role(request, world, api_client_for, name, role, expected):
    method, url, payload, _ = WRITES[name]
    client = api_client_for(request.getfixturevalue(role))
    response = call(client, method, url(world), payload(world))
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [(m, u, p) for m, u, p, _ in WRITES.values()] + [("get", u, lambda w: None) for u in READS],
)
def test_anonymous_gets_401_with_token_auth_advertised(world, method, url, payload):
    response = call(APIClient(), method, url(world), payload(world))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [(m, u, p) for m, u, p, _ in WRITES.values()] + [("get", u, lambda w: None) for u in READS],
)
def test_user_without_role_gets_403(world, no_role_user, api_client_for, method, url, payload):
    response = call(api_client_for(no_role_user), method, url(world), payload(world))
    assert response.status_code == 403


def test_refused_writes_change_nothing(world, api_client_for, other_data_scientist, auditor):
    use_case, version = world["use_case"], world["version"]
    for user in (other_data_scientist, auditor):
        client = api_client_for(user)
        client.patch(f"{API}/use-cases/{use_case.pk}/", {"name": "Hijacked"}, format="json")
        client.patch(
            f"{API}/model-versions/{version.pk}/", {"metrics": {"auc": 0.1}}, format="json"
        )
        client.post(f"{API}/models/", {"use_case": use_case.pk, "name": "x"}, format="json")
    use_case.refresh_from_db()
    version.refresh_from_db()
    assert use_case.name == "Mortgage PD"
    assert version.metrics == {"auc": 0.81}
    assert MLModel.objects.count() == 1


# --- Use cases --------------------------------------------------------------------


def test_use_case_is_shown_with_natural_keys_labels_and_latest_classification(
    world, api_client_for, auditor
):
    use_case = world["use_case"]
    data = api_client_for(auditor).get(f"{API}/use-cases/{use_case.pk}/").json()
    assert data["team"] == "credit-risk"
    assert data["business_owner"] == "lead" and data["technical_owner"] == "ds"
    assert data["regulations"] == ["gdpr"]
    assert data["datasets"] == [world["dataset"].pk]
    assert data["status"] == "development" and data["status_label"] == "Development"
    assert data["risk_tier"] == 2 and data["risk_tier_label"] == "Medium"
    assert data["criticality"] == 1 and data["criticality_label"].startswith("1 - ")
    latest = use_case.classifications.get()
    assert data["latest_classification"]["id"] == latest.pk
    assert data["latest_classification"]["classified_by"] == "ds"
    assert data["model_count"] == 1


def test_data_scientist_registers_a_use_case(team, data_scientist, governance_lead, api_client_for):
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/", use_case_payload(), format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert sorted(data["regulations"]) == ["gdpr", "sr-11-7"]
    assert data["created_by"] == "ds"
    assert data["risk_tier"] is None and data["latest_classification"] is None
    assert UseCase.objects.get(pk=data["id"]).created_by == data_scientist


def test_use_case_is_retired_through_its_status(world, api_client_for, data_scientist):
    url = f"{API}/use-cases/{world['use_case'].pk}/"
    response = api_client_for(data_scientist).patch(url, {"status": "retired"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "retired"


def test_changing_regulations_reclassifies_in_the_same_request(
    world, api_client_for, data_scientist
):
    url = f"{API}/use-cases/{world['use_case'].pk}/"
    response = api_client_for(data_scientist).patch(
        url, {"regulations": ["eu-ai-act"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["risk_tier"] == 4
    assert world["use_case"].classifications.count() == 2


def test_data_scientist_cannot_move_a_use_case_to_another_team(
    world, other_team, api_client_for, data_scientist
):
    url = f"{API}/use-cases/{world['use_case'].pk}/"
    response = api_client_for(data_scientist).patch(url, {"team": "marketing"}, format="json")
    assert response.status_code == 403
    world["use_case"].refresh_from_db()
    assert world["use_case"].team.slug == "credit-risk"


def test_data_scientist_cannot_register_for_another_team(
    other_team, data_scientist, governance_lead, api_client_for
):
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/", use_case_payload(team="marketing"), format="json"
    )
    assert response.status_code == 403
    assert not UseCase.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "shipped"}, "status"),
        ({"regulations": ["no-such-law"]}, "regulations"),
        ({"regulations": "gdpr"}, "regulations"),
        ({"team": "no-such-team"}, "team"),
        ({"business_owner": "nobody"}, "business_owner"),
        ({"datasets": [999999]}, "datasets"),
        ({"datasets": ["x"]}, "datasets"),
        ({"uses_pii": "perhaps"}, "uses_pii"),
        ({"uses_pii": [True]}, "uses_pii"),
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": {"a": 1}}, "name"),
        ({"purpose": None}, "purpose"),
        ({"name": "Mortgage PD"}, "name"),  # taken
    ],
)
def test_bad_use_case_input_is_a_400_with_field_errors(
    world, api_client_for, data_scientist, overrides, field
):
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/", use_case_payload(**overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert UseCase.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    ["{not json", "[]", "null", '"a string"', "42", '{"name": "\\ud800"}', '{"a": NaN}'],
)
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", lambda w: f"{API}/use-cases/"),
        ("patch", lambda w: f"{API}/use-cases/{w['use_case'].pk}/"),
        ("put", lambda w: f"{API}/use-cases/{w['use_case'].pk}/"),
        ("post", lambda w: f"{API}/use-cases/{w['use_case'].pk}/classification/"),
        ("post", lambda w: f"{API}/models/"),
        ("patch", lambda w: f"{API}/models/{w['model'].pk}/"),
        ("post", lambda w: f"{API}/model-versions/"),
        ("patch", lambda w: f"{API}/model-versions/{w['version'].pk}/"),
        ("post", lambda w: f"{API}/datasets/"),
        ("put", lambda w: f"{API}/datasets/{w['dataset'].pk}/"),
    ],
)
def test_malformed_bodies_are_400_never_500(
    world, api_client_for, governance_lead, method, url, body
):
    client = api_client_for(governance_lead)
    before = (UseCase.objects.count(), Classification.objects.count(), ModelVersion.objects.count())
    response = getattr(client, method)(url(world), body, content_type="application/json")
    assert response.status_code == 400, response.content
    after = (UseCase.objects.count(), Classification.objects.count(), ModelVersion.objects.count())
    assert before == after


def test_unknown_use_case_is_404(world, api_client_for, auditor):
    assert api_client_for(auditor).get(f"{API}/use-cases/999999/").status_code == 404
    assert api_client_for(auditor).get(f"{API}/use-cases/abc/").status_code == 404


# --- Filtering, search, ordering, pagination --------------------------------------


@pytest.fixture
def portfolio(team, other_team, data_scientist, risk_officer):
    gdpr = Regulation.objects.get(code="gdpr")
    for i in range(3):
        UseCaseFactory(name=f"Credit {i}", team=team, technical_owner=data_scientist)
    marketing = UseCaseFactory(name="Churn", team=other_team, status="production")
    marketing.regulations.set([gdpr])
    classification_submit(
        use_case=marketing, answers=full_answers(availability="realtime"), by=risk_officer
    )
    return marketing


def names(response):
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("team=marketing", ["Churn"]),
        ("team=credit-risk&team=marketing", ["Churn", "Credit 0", "Credit 1", "Credit 2"]),
        ("regulation=gdpr", ["Churn"]),
        ("status=production", ["Churn"]),
        ("risk_tier=2", ["Churn"]),
        ("criticality=4", ["Churn"]),
        ("unclassified=true", ["Credit 0", "Credit 1", "Credit 2"]),
        ("owner=ds", ["Credit 0", "Credit 1", "Credit 2"]),
        ("q=churn", ["Churn"]),
        ("search=credit", ["Credit 0", "Credit 1", "Credit 2"]),
        ("ordering=-name", ["Credit 2", "Credit 1", "Credit 0", "Churn"]),
    ],
)
def test_use_cases_filter_search_and_order(portfolio, api_client_for, auditor, query, expected):
    assert names(api_client_for(auditor).get(f"{API}/use-cases/?{query}")) == expected


@pytest.mark.parametrize(
    "query", ["risk_tier=9", "status=shipped", "team=nowhere", "regulation=nope", "owner=ghost"]
)
def test_unknown_filter_values_are_400(portfolio, api_client_for, auditor, query):
    assert api_client_for(auditor).get(f"{API}/use-cases/?{query}").status_code == 400


def test_ordering_by_an_unlisted_field_is_ignored(portfolio, api_client_for, auditor):
    response = api_client_for(auditor).get(f"{API}/use-cases/?ordering=purpose")
    assert names(response) == ["Churn", "Credit 0", "Credit 1", "Credit 2"]


def test_use_cases_are_paginated(team, api_client_for, auditor):
    UseCaseFactory.create_batch(55, team=team)
    client = api_client_for(auditor)
    first = client.get(f"{API}/use-cases/").json()
    assert first["count"] == 55 and len(first["results"]) == 50
    assert first["next"].endswith("page=2")
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert client.get(f"{API}/use-cases/?page=9").status_code == 404


def test_versions_filter_by_model_environment_and_sha(world, api_client_for, auditor):
    other = ModelVersionFactory(version_label="9.9")
    client = api_client_for(auditor)
    by_model = client.get(f"{API}/model-versions/?model={world['model'].pk}").json()
    assert [v["id"] for v in by_model["results"]] == [world["version"].pk]
    by_sha = client.get(f"{API}/model-versions/?artifact_sha256={other.artifact_sha256}").json()
    assert [v["id"] for v in by_sha["results"]] == [other.pk]
    assert client.get(f"{API}/model-versions/?environment=prod").json()["count"] == 0
    assert client.get(f"{API}/model-versions/?environment=moon").status_code == 400


def test_datasets_filter_by_pii(world, api_client_for, auditor):
    DatasetFactory(name="weather")
    client = api_client_for(auditor)
    assert names(client.get(f"{API}/datasets/?has_pii=true")) == ["applications"]
    assert names(client.get(f"{API}/datasets/?has_pii=false")) == ["weather"]


# --- No N+1: the query count does not grow with the rows -----------------------------


def _grow(team, n):
    gdpr = Regulation.objects.get(code="gdpr")
    for _ in range(n):
        dataset = DatasetFactory(team=team)
        DatasetColumnFactory.create_batch(2, dataset=dataset)
        use_case = UseCaseFactory(team=team)
        use_case.regulations.set([gdpr])
        use_case.datasets.set([dataset])
        Classification.objects.create(
            use_case=use_case,
            answers={},
            criticality=1,
            risk_tier=1,
            reasons=[],
            rules_fingerprint="x",
            classified_by=use_case.technical_owner,
            classified_at=use_case.created_at,
        )
        version = ModelVersionFactory(model=MLModelFactory(use_case=use_case))
        version.authors.add(use_case.business_owner)


@pytest.mark.parametrize(
    "path",
    [
        "use-cases/",
        "models/",
        "model-versions/",
        "datasets/",
        "teams/",
        "risk-questions/",
        "risk-rules/",
        "regulations/",
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    team, auditor, api_client_for, django_assert_max_num_queries, path
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(auditor)
    _grow(team, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{API}/{path}").status_code == 200
    _grow(team, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{API}/{path}")
    assert response.status_code == 200


# --- Models ----------------------------------------------------------------------------


def test_model_is_created_and_only_its_description_changes(world, api_client_for, data_scientist):
    client = api_client_for(data_scientist)
    response = client.post(
        f"{API}/models/", {"use_case": world["use_case"].pk, "name": "pd-logit"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["created_by"] == "ds"
    url = f"{API}/models/{response.json()['id']}/"
    assert client.patch(url, {"name": "renamed"}, format="json").status_code == 400
    assert client.put(url, {"description": "x"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    response = client.patch(url, {"description": "Logistic baseline."}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "Logistic baseline."
    assert response.json()["name"] == "pd-logit"


def test_duplicate_model_name_is_400(world, api_client_for, data_scientist):
    response = api_client_for(data_scientist).post(
        f"{API}/models/", {"use_case": world["use_case"].pk, "name": "pd-gbm"}, format="json"
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["non_field_errors"][0]
    assert MLModel.objects.count() == 1


# --- Idempotent version registration ------------------------------------------------


def test_registering_the_same_version_twice_gives_one_row(world, api_client_for, data_scientist):
    client = api_client_for(data_scientist)
    payload = version_payload(world["model"].pk)
    first = client.post(f"{API}/model-versions/", payload, format="json")
    again = client.post(f"{API}/model-versions/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert ModelVersion.objects.filter(model=world["model"], version_label="2.0").count() == 1
    data = first.json()
    assert data["environment"] == "dev" and data["registered_by"] == "ds"
    assert data["authors"] == ["ds"] and data["metrics"] == {"auc": 0.84}


def test_upper_case_sha_is_the_same_artifact(world, api_client_for, data_scientist):
    client = api_client_for(data_scientist)
    url = f"{API}/model-versions/"
    payload = version_payload(world["model"].pk, artifact_sha256="AB" * 32)
    assert client.post(url, payload, format="json").status_code == 201
    payload["artifact_sha256"] = "ab" * 32
    response = client.post(url, payload, format="json")
    assert response.status_code == 200
    assert response.json()["artifact_sha256"] == "ab" * 32


def test_a_second_sha_for_a_label_is_refused_and_nothing_is_written(
    world, api_client_for, data_scientist
):
    version = world["version"]
    payload = version_payload(
        world["model"].pk, version_label="1.0", artifact_sha256=SHA_B, metrics={"auc": 0.99}
    )
    response = api_client_for(data_scientist).post(f"{API}/model-versions/", payload, format="json")
    assert response.status_code == 400
    assert "artifact_sha256" in response.json()
    assert ModelVersion.objects.count() == 1
    version.refresh_from_db()
    assert version.artifact_sha256 == SHA_A and version.metrics == {"auc": 0.81}


def test_environment_cannot_be_set_through_the_api(world, api_client_for, data_scientist):
    client = api_client_for(data_scientist)
    payload = version_payload(world["model"].pk, environment="prod")
    # A read-only field in a payload is refused, not silently ignored (issue 13).
    before = ModelVersion.objects.count()
    response = client.post(f"{API}/model-versions/", payload, format="json")
    assert response.status_code == 400
    assert "environment" in response.json()
    assert ModelVersion.objects.count() == before
    url = f"{API}/model-versions/{world['version'].pk}/"
    assert client.patch(url, {"environment": "prod"}, format="json").status_code == 400
    assert client.put(url, {"metrics": {}}, format="json").status_code == 405
    world["version"].refresh_from_db()
    assert world["version"].environment == "dev"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"artifact_sha256": "xyz"}, "artifact_sha256"),
        ({"artifact_sha256": "a" * 63}, "artifact_sha256"),
        ({"artifact_sha256": None}, "artifact_sha256"),
        ({"model": 999999}, "model"),
        ({"model": "pd-gbm"}, "model"),
        ({"version_label": "v" * 51}, "version_label"),
        ({"version_label": ""}, "version_label"),
        ({"metrics": [0.8]}, "metrics"),
        ({"metrics": {"auc": "high"}}, "metrics"),
        ({"metrics": {"auc": True}}, "metrics"),
        ({"metrics": {"auc": 10**400}}, "metrics"),
        ({"metrics": {"a\u0000b": 1}}, "metrics"),
        ({"training_dataset": 999999}, "training_dataset"),
        ({"authors": ["nobody"]}, "authors"),
    ],
)
def test_bad_version_input_is_a_400(world, api_client_for, data_scientist, overrides, field):
    payload = version_payload(world["model"].pk, **overrides)
    response = api_client_for(data_scientist).post(f"{API}/model-versions/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ModelVersion.objects.count() == 1


def test_version_for_another_teams_model_is_403(world, api_client_for, other_data_scientist):
    response = api_client_for(other_data_scientist).post(
        f"{API}/model-versions/", version_payload(world["model"].pk), format="json"
    )
    assert response.status_code == 403
    assert ModelVersion.objects.count() == 1


def test_metrics_are_merged(world, api_client_for, data_scientist):
    url = f"{API}/model-versions/{world['version'].pk}/"
    client = api_client_for(data_scientist)
    response = client.patch(url, {"metrics": {"ks": 0.41, "auc": 0.82}}, format="json")
    assert response.status_code == 200
    assert response.json()["metrics"] == {"auc": 0.82, "ks": 0.41}
    bad = client.patch(url, {"metrics": {"gini": "n/a"}}, format="json")
    assert bad.status_code == 400 and "metrics" in bad.json()
    world["version"].refresh_from_db()
    assert world["version"].metrics == {"auc": 0.82, "ks": 0.41}


# --- Datasets ------------------------------------------------------------------------


def test_dataset_is_registered_with_columns(team, data_scientist, api_client_for):
    response = api_client_for(data_scientist).post(
        f"{API}/datasets/", dataset_payload(), format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["has_pii"] is True and data["team"] == "credit-risk" and data["owner"] == "ds"
    assert [c["name"] for c in data["columns"]] == ["customer_id", "score"]
    assert data["columns"][1]["lineage_notes"] == "bureau model v7"


def test_dataset_columns_are_replaced_only_when_given(world, api_client_for, data_scientist):
    client = api_client_for(data_scientist)
    url = f"{API}/datasets/{world['dataset'].pk}/"
    response = client.patch(url, {"description": "Applications."}, format="json")
    assert [c["name"] for c in response.json()["columns"]] == ["income"]
    # The PII column stays flagged: only the second line removes a flag (issue 12).
    columns = [{"name": "income", "is_pii": True}, {"name": "age", "is_pii": False}]
    response = client.patch(url, {"columns": columns}, format="json")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["columns"]] == ["income", "age"]
    assert response.json()["has_pii"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"columns": [{"name": "a"}, {"name": "a"}]}, "columns"),  # rejected by the service
        ({"columns": [{"name": "a"}, {"name": "b" * 201}]}, "columns"),
        ({"columns": [{"data_type": "int"}]}, "columns"),
        ({"columns": [{"name": "a", "is_pii": "sometimes"}]}, "columns"),
        ({"columns": {"name": "a"}}, "columns"),
        ({"columns": ["a"]}, "columns"),
        ({"team": "nowhere"}, "team"),
        ({"owner": None}, "owner"),
        ({"name": "applications"}, "name"),  # taken
    ],
)
def test_bad_dataset_input_is_a_400_and_nothing_is_written(
    world, api_client_for, data_scientist, overrides, field
):
    response = api_client_for(data_scientist).post(
        f"{API}/datasets/", dataset_payload(**overrides), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Dataset.objects.count() == 1 and DatasetColumn.objects.count() == 1


def test_failed_column_replacement_keeps_the_old_columns(world, api_client_for, data_scientist):
    url = f"{API}/datasets/{world['dataset'].pk}/"
    response = api_client_for(data_scientist).patch(
        url, {"description": "changed", "columns": [{"name": "x"}, {"name": "x"}]}, format="json"
    )
    assert response.status_code == 400
    world["dataset"].refresh_from_db()
    assert world["dataset"].description == ""
    assert list(world["dataset"].columns.values_list("name", flat=True)) == ["income"]


def test_dataset_of_another_team_is_403(world, api_client_for, other_data_scientist):
    url = f"{API}/datasets/{world['dataset'].pk}/"
    response = api_client_for(other_data_scientist).put(url, dataset_payload(), format="json")
    assert response.status_code == 403


def test_raw_json_body_is_accepted(world, api_client_for, data_scientist):
    """Pipelines send plain JSON, not the test client's encoder."""
    response = api_client_for(data_scientist).post(
        f"{API}/model-versions/",
        json.dumps(version_payload(world["model"].pk)),
        content_type="application/json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "use-cases/?search=%00",
        "use-cases/?q=a%00b",
        "model-versions/?artifact_sha256=%00",
        "datasets/?q=%00",
        "teams/?search=%00",
    ],
)
def test_nul_characters_in_queries_are_400(world, api_client_for, auditor, url):
    """PostgreSQL refuses NUL in a string literal: it must never reach the database."""
    assert api_client_for(auditor).get(f"{API}/{url}").status_code == 400
