"""Scored data where it lives (issue 17), through the API and the pages as each role:
governance leads register warehouse connections (secrets stay in the environment),
data scientists attach a read-only query on one, and its bias summary, counted by the
engine, equals the summary of the same rows uploaded as a file, to the last digit, on a
real DuckDB and a real PostgreSQL; bad queries are 400s with nothing stored; a timeout
or an engine error fails the summary with its reason."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from core.fairness import GroupCounts
from core.warehouse import counts_fingerprint
from fairness import services as svc
from fairness.models import BiasSummary, ScoredDataset, WarehouseConnection
from tests.fairness.uploads import validate_queued
from tests.fairness.warehouse_data import compas_table, parquet_bytes, synthetic_table

pytestmark = pytest.mark.django_db

CONNECTIONS = "/api/v1/warehouse-connections/"
DATASETS = "/api/v1/scored-datasets/"
MAPPING = {"outcome": "y", "prediction": "yhat", "sensitive": ["race", "sex"], "score": "score"}
OPTIONS = {"reference": "best", "min_group_size": 30, "favourable_prediction": 0}


def register(api, name, engine, secret_env, **extra):
    body = {"name": name, "engine": engine, "secret_env": secret_env, **extra}
    return api.post(CONNECTIONS, body, format="json")


def attach(api, version, connection, query, mapping=None):
    body = {
        "model_version": version.pk,
        "connection": connection,
        "query": query,
        "mapping": mapping or MAPPING,
    }
    return api.post(f"{DATASETS}query/", body, format="json")


def summarise(api, dataset_id, options=None) -> BiasSummary:
    response = api.post(f"{DATASETS}{dataset_id}/summaries/", options or OPTIONS, format="json")
    assert response.status_code == 202, response.content
    svc.bias_summary_run(summary_id=response.json()["id"])
    return BiasSummary.objects.get(pk=response.json()["id"])


def file_summary(api, version, table, mapping=None, options=None) -> BiasSummary:
    upload = {
        "model_version": version.pk,
        "file": SimpleUploadedFile("scored.parquet", parquet_bytes(table)),
        "mapping": json.dumps(mapping or MAPPING),
    }
    response = api.post(DATASETS, upload, format="multipart")
    assert response.status_code == 202, response.content  # validated by the worker (issue 18)
    validate_queued()
    dataset = ScoredDataset.objects.get(pk=response.json()["id"])
    assert dataset.status == ScoredDataset.Status.VALID, dataset.error
    return summarise(api, dataset.pk, options)


def assert_same(pushed: BiasSummary, uploaded: BiasSummary, engine: str, connection: str):
    assert uploaded.status == pushed.status == "done", pushed.error
    assert pushed.counts == uploaded.counts
    assert pushed.result == uploaded.result
    provenance = pushed.provenance
    assert provenance["connection"] == connection and provenance["engine"] == engine
    assert provenance["rows"] == uploaded.result["rows"]
    assert provenance["result_sha256"] == counts_fingerprint(GroupCounts.from_dict(uploaded.counts))
    assert provenance["query"] == pushed.dataset.query and provenance["statements"]
    assert uploaded.provenance is None


# --- Connections: governance leads only, secrets stay outside -------------------------


def test_only_governance_leads_register_and_change_connections(
    api_client_for, governance_lead, data_scientist, auditor
):
    for user in (data_scientist, auditor):
        refused = register(api_client_for(user), "lake", "duckdb", "WAREHOUSE_DSN_LAKE")
        assert refused.status_code == 403
    assert not WarehouseConnection.objects.exists()

    lead = api_client_for(governance_lead)
    created = register(lead, "lake", "duckdb", "WAREHOUSE_DSN_LAKE", description="Parquet")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret_env"] == "WAREHOUSE_DSN_LAKE" and body["secret_set"] is False
    url = f"{CONNECTIONS}{body['id']}/"
    assert (
        api_client_for(data_scientist).patch(url, {"active": False}, format="json").status_code
        == 403
    )
    assert api_client_for(auditor).get(url).json()["name"] == "lake"
    switched = lead.patch(url, {"active": False}, format="json")
    assert switched.status_code == 200 and switched.json()["active"] is False
    assert lead.patch(url, {"name": "renamed"}, format="json").status_code == 400

    events = AuditEvent.objects.filter(object_type="fairness.warehouseconnection")
    assert events.count() == 2
    assert {e.actor_id for e in events} == {governance_lead.pk}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"secret_env": "DATABASE_URL"}, "secret_env"),
        ({"secret_env": "DJANGO_SECRET_KEY"}, "secret_env"),
        ({"secret_env": "postgresql://u:p@host/db"}, "secret_env"),
        ({"engine": "oracle"}, "engine"),
        ({"engine": "sqlalchemy"}, "dialect"),
        ({"dialect": "snowflake"}, "dialect"),
        ({"name": "not a slug"}, "name"),
    ],
)
def test_a_bad_connection_is_a_400_and_nothing_is_stored(
    api_client_for, governance_lead, body, field
):
    data = {"name": "lake", "engine": "duckdb", "secret_env": "WAREHOUSE_DSN_LAKE", **body}
    response = api_client_for(governance_lead).post(CONNECTIONS, data, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not WarehouseConnection.objects.exists()


def test_leads_register_connections_in_the_admin(client_for, governance_lead):
    client = client_for(governance_lead)
    url = "/admin/fairness/warehouseconnection/add/"
    bad = {"name": "pg", "engine": "postgresql", "secret_env": "DATABASE_URL", "active": "on"}
    assert client.post(url, bad).status_code == 400
    good = {**bad, "secret_env": "WAREHOUSE_DSN_PG"}
    assert client.post(url, good).status_code == 302
    assert WarehouseConnection.objects.get().created_by == governance_lead


# --- DuckDB over Parquet files -----------------------------------------------------------


@pytest.fixture
def lake(api_client_for, governance_lead, duck_folder):
    assert (
        register(
            api_client_for(governance_lead), "lake", "duckdb", "WAREHOUSE_DSN_LAKE"
        ).status_code
        == 201
    )
    return "lake"


@pytest.mark.parametrize(
    ("table", "mapping", "options"),
    [
        ("compas", MAPPING, OPTIONS),
        ("compas", {**MAPPING, "weight": "w"}, {**OPTIONS, "favourable_prediction": 1}),
        (
            "synthetic",
            {"outcome": "y", "score": "score", "threshold": 0.5, "sensitive": ["race", "sex"]},
            OPTIONS,
        ),
    ],
)
def test_duckdb_pushdown_equals_the_uploaded_file(
    api_client_for, data_scientist, version, media, lake, table, mapping, options
):
    api = api_client_for(data_scientist)
    attached = attach(api, version, lake, f"SELECT * FROM {table}", mapping)  # noqa: S608 (the query is the test's input)
    assert attached.status_code == 201, attached.content
    assert attached.json()["format"] == "query" and attached.json()["download"] is None
    assert attach(api, version, lake, f"SELECT * FROM {table}", mapping).status_code == 200  # noqa: S608 (the query is the test's input)
    pushed = summarise(api, attached.json()["id"], options)
    rows = compas_table() if table == "compas" else synthetic_table()
    assert_same(pushed, file_summary(api, version, rows, mapping, options), "duckdb", lake)


@pytest.mark.parametrize(
    ("query", "field", "why"),
    [
        ("DELETE FROM compas", "query", "not DELETE"),
        ("SELECT * FROM compas; DROP VIEW compas", "query", "exactly one SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "query", "DuckDB refused"),
        ("SELECT * FROM no_such_table", "query", "DuckDB refused"),
        ("SELECT race, y FROM compas", "mapping", "no column 'yhat'"),
    ],
)
def test_a_bad_query_is_a_400_and_nothing_is_stored(
    api_client_for, data_scientist, version, lake, query, field, why
):
    response = attach(api_client_for(data_scientist), version, lake, query)
    assert response.status_code == 400, response.content
    assert why in json.dumps(response.json()[field])
    assert not ScoredDataset.objects.exists()


def test_only_the_use_case_s_data_scientists_attach_queries(
    api_client_for, other_data_scientist, auditor, version, lake
):
    for user in (other_data_scientist, auditor):
        assert (
            attach(api_client_for(user), version, lake, "SELECT * FROM compas").status_code == 403
        )
    assert not ScoredDataset.objects.exists()


def test_a_query_source_has_no_file_to_download(
    api_client_for, client_for, data_scientist, version, lake
):
    dataset_id = attach(
        api_client_for(data_scientist), version, lake, "SELECT * FROM compas"
    ).json()["id"]
    assert (
        api_client_for(data_scientist).get(f"{DATASETS}{dataset_id}/download/").status_code == 404
    )
    assert (
        client_for(data_scientist).get(f"/reviews/bias/datasets/{dataset_id}/download/").status_code
        == 404
    )


def test_a_timeout_fails_the_summary_with_the_reason(
    api_client_for, data_scientist, version, lake, settings
):
    api = api_client_for(data_scientist)
    slow = "SELECT c.* FROM compas c, range(1000000000) r"
    dataset_id = attach(api, version, lake, slow).json()["id"]
    settings.WAREHOUSE_STATEMENT_TIMEOUT_SECONDS = 1
    summary = summarise(api, dataset_id)
    assert summary.status == "failed"
    assert "longer than the statement timeout (1 s)" in summary.error


def test_a_missing_secret_or_a_switched_off_connection_is_a_clear_refusal(
    api_client_for, governance_lead, data_scientist, version, lake, monkeypatch
):
    api = api_client_for(data_scientist)
    monkeypatch.delenv("WAREHOUSE_DSN_LAKE")
    response = attach(api, version, lake, "SELECT * FROM compas")
    assert response.status_code == 400
    assert "WAREHOUSE_DSN_LAKE" in response.json()["query"][0]
    connection = WarehouseConnection.objects.get()
    svc.warehouse_connection_update(
        connection=connection, by=governance_lead, changes={"active": False}
    )
    response = attach(api, version, lake, "SELECT * FROM compas")
    assert response.status_code == 400 and "switched off" in response.json()["connection"][0]


def test_the_page_attaches_a_query_and_shows_its_provenance(
    client_for, data_scientist, version, media, lake
):
    client = client_for(data_scientist)
    page = client.get(f"/reviews/versions/{version.pk}/bias/")
    assert page.status_code == 200 and b"Query scored data where it lives" in page.content
    form = {
        "connection": lake,
        "query": "SELECT * FROM compas",
        "outcome": "y",
        "prediction": "yhat",
        "sensitive": "race, sex",
        "reference": "best",
        "min_group_size": 30,
        "favourable_prediction": 1,
    }
    refused = client.post(
        f"/reviews/versions/{version.pk}/bias/query/", {**form, "query": "DROP VIEW compas"}
    )
    assert refused.status_code == 400 and b"not DROP" in refused.content
    assert not ScoredDataset.objects.exists()
    done = client.post(f"/reviews/versions/{version.pk}/bias/query/", form)
    assert done.status_code == 302
    summary = BiasSummary.objects.get()
    svc.bias_summary_run(summary_id=summary.pk)
    summary.refresh_from_db()
    shown = client.get(done.url)
    assert summary.provenance["result_sha256"].encode() in shown.content
    assert b"SELECT * FROM compas" in shown.content


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def warehouse(api_client_for, governance_lead, pg_warehouse):
    created = register(api_client_for(governance_lead), "risk-db", "postgresql", "WAREHOUSE_DSN_PG")
    assert created.status_code == 201
    return pg_warehouse


def test_postgresql_pushdown_equals_the_uploaded_file(
    api_client_for, data_scientist, version, media, warehouse
):
    api = api_client_for(data_scientist)
    query = f"WITH s AS (SELECT * FROM {warehouse}.compas) SELECT * FROM s"  # noqa: S608 (the query is the test's input)
    mapping = {**MAPPING, "weight": "w"}
    attached = attach(api, version, "risk-db", query, mapping)
    assert attached.status_code == 201, attached.content
    pushed = summarise(api, attached.json()["id"])
    assert_same(
        pushed, file_summary(api, version, compas_table(), mapping), "postgresql", "risk-db"
    )

    threshold = {"outcome": "y", "score": "score", "threshold": 0.5, "sensitive": ["race", "sex"]}
    attached = attach(api, version, "risk-db", f"SELECT * FROM {warehouse}.synthetic", threshold)  # noqa: S608 (the query is the test's input)
    pushed = summarise(api, attached.json()["id"])
    assert_same(
        pushed, file_summary(api, version, synthetic_table(), threshold), "postgresql", "risk-db"
    )


def test_postgresql_runs_read_only_under_the_statement_timeout(
    api_client_for, data_scientist, version, warehouse, settings
):
    api = api_client_for(data_scientist)
    # a SELECT that would write (a sequence): the read-only transaction refuses it
    writes = f"SELECT c.*, nextval('{warehouse}.ticket') AS ticket FROM {warehouse}.compas c"  # noqa: S608 (the query is the test's input)
    summary = summarise(api, attach(api, version, "risk-db", writes).json()["id"])
    assert summary.status == "failed" and "read-only transaction" in summary.error
    slow = f"SELECT c.* FROM {warehouse}.compas c, generate_series(1, 1000000000) g"  # noqa: S608 (the query is the test's input)
    dataset_id = attach(api, version, "risk-db", slow).json()["id"]
    settings.WAREHOUSE_STATEMENT_TIMEOUT_SECONDS = 1
    summary = summarise(api, dataset_id)
    assert summary.status == "failed"
    assert "longer than the statement timeout (1 s)" in summary.error
