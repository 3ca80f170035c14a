"""A list's filters narrow the list only: a detail URL (or an action) finds its row
whatever query string a client carries over from the list (as before the FilterSets)."""

import pytest

from tests.factories import (
    DriftAlertFactory,
    ExperimentFactory,
    FindingFactory,
    GateCallFactory,
    MonitoringConfigFactory,
    MonitoringWindowFactory,
    PromotionRequestFactory,
    ScoredDatasetFactory,
)
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db

API = "/api/v1"
CASES = [
    ("experiments", ExperimentFactory, {"status": "ended", "use_case": "abc"}),
    ("monitoring-configs", MonitoringConfigFactory, {"model_version": "999999"}),
    ("monitoring-windows", MonitoringWindowFactory, {"config": "999999"}),
    ("drift-alerts", DriftAlertFactory, {"status": "resolved", "config": "999999"}),
    ("promotion-requests", PromotionRequestFactory, {"model_version": "999999"}),
    ("findings", FindingFactory, {"status": "resolved", "model_version": "999999"}),
    ("gate-calls", GateCallFactory, {"decision": "allowed", "model_version": "999999"}),
    ("scored-datasets", ScoredDatasetFactory, {"model_version": "999999"}),
]


@pytest.mark.parametrize(("route", "factory", "query"), CASES, ids=[c[0] for c in CASES])
def test_a_detail_url_ignores_the_list_filters(auditor, route, factory, query):
    row = factory()
    client = api_client(auditor)
    # The same query string narrows (or refuses) the list...
    listed = client.get(f"{API}/{route}/", query)
    assert listed.status_code == 400 or row.pk not in [r["id"] for r in listed.json()["results"]]
    # ...but not the detail URL.
    response = client.get(f"{API}/{route}/{row.pk}/", query)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == row.pk
