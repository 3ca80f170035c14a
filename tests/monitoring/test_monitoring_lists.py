"""The monitoring lists (configurations, windows, alerts) through the API client: a bad
query value is a 400 naming the parameter, never a 500; the query count does not grow
with the rows listed."""

import pytest

from tests.factories import DriftAlertFactory, MonitoringConfigFactory, MonitoringWindowFactory
from tests.list_checks import (
    CHOICE_BAD_VALUES,
    ID_BAD_VALUES,
    api_client,
    bad_value_cases,
    check_bad_value,
    check_page_past_the_end,
    check_queries_do_not_grow,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
LISTS = {
    f"{API}/monitoring-configs/": {"model_version": ID_BAD_VALUES},
    f"{API}/monitoring-windows/": {"config": ID_BAD_VALUES, "model_version": ID_BAD_VALUES},
    f"{API}/drift-alerts/": {"config": ID_BAD_VALUES, "status": CHOICE_BAD_VALUES},
}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    check_bad_value(auditor, url, name, value, expected)


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_404_naming_the_parameter(auditor, url):
    check_page_past_the_end(auditor, url)


def test_the_filters_select_as_before(auditor):
    alert, other = DriftAlertFactory(), DriftAlertFactory(status="resolved")
    client = api_client(auditor)
    body = client.get(f"{API}/drift-alerts/", {"status": "resolved"}).json()
    assert [row["id"] for row in body["results"]] == [other.pk]
    body = client.get(f"{API}/drift-alerts/", {"config": alert.config_id}).json()
    assert [row["id"] for row in body["results"]] == [alert.pk]
    version = alert.config.model_version_id
    body = client.get(f"{API}/monitoring-windows/", {"model_version": version}).json()
    assert [row["id"] for row in body["results"]] == [alert.window_id]
    body = client.get(f"{API}/monitoring-configs/", {"model_version": version}).json()
    assert [row["id"] for row in body["results"]] == [alert.config_id]


MAKERS = {
    f"{API}/monitoring-configs/": MonitoringConfigFactory,
    f"{API}/monitoring-windows/": MonitoringWindowFactory,
    f"{API}/drift-alerts/": DriftAlertFactory,
}
# token and user, roles, count, rows (alerts: + their events)
QUERIES = {
    f"{API}/monitoring-configs/": 5,  # + the rows' reference profiles
    f"{API}/monitoring-windows/": 4,
    f"{API}/drift-alerts/": 5,
}


@pytest.mark.parametrize("url", MAKERS)
def test_list_queries_do_not_grow_with_rows(auditor, url, django_assert_num_queries):
    check_queries_do_not_grow(
        api_client(auditor), url, MAKERS[url].create_batch, QUERIES[url], django_assert_num_queries
    )
