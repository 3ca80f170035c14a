"""The bias lists (scored datasets, summaries) through the API client: a bad query value
is a 400 naming the parameter, never a 500; the query count does not grow with rows."""

import pytest

from tests.factories import BiasSummaryFactory, ScoredDatasetFactory
from tests.list_checks import ID_BAD_VALUES, api_client, bad_value_cases

pytestmark = pytest.mark.django_db

API = "/api/v1"
LISTS = {
    f"{API}/scored-datasets/": {"model_version": ID_BAD_VALUES},
    f"{API}/bias-summaries/": {"model_version": ID_BAD_VALUES, "dataset": ID_BAD_VALUES},
}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    response = api_client(auditor).get(url, {name: value})
    assert response.status_code == expected, response.content
    if expected == 400:
        assert name in response.json()


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_404_naming_the_parameter(auditor, url):
    response = api_client(auditor).get(url, {"page": "999999"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("page:")


def test_the_filters_select_as_before(auditor):
    summary, other = BiasSummaryFactory(), BiasSummaryFactory()
    client = api_client(auditor)
    version = summary.dataset.model_version_id
    body = client.get(f"{API}/bias-summaries/", {"model_version": version}).json()
    assert [row["id"] for row in body["results"]] == [summary.pk]
    body = client.get(f"{API}/bias-summaries/", {"dataset": other.dataset_id}).json()
    assert [row["id"] for row in body["results"]] == [other.pk]
    body = client.get(f"{API}/scored-datasets/", {"model_version": version}).json()
    assert [row["id"] for row in body["results"]] == [summary.dataset_id]


MAKERS = {
    f"{API}/scored-datasets/": ScoredDatasetFactory,
    f"{API}/bias-summaries/": BiasSummaryFactory,
}
QUERIES = {f"{API}/scored-datasets/": 4, f"{API}/bias-summaries/": 4}


@pytest.mark.parametrize("url", MAKERS)
def test_list_queries_do_not_grow_with_rows(auditor, url, django_assert_num_queries):
    client = api_client(auditor)
    MAKERS[url].create_batch(2)
    assert client.get(url).status_code == 200  # warm the per-process caches
    with django_assert_num_queries(QUERIES[url]):
        assert client.get(url).status_code == 200
    MAKERS[url].create_batch(4)
    with django_assert_num_queries(QUERIES[url]):
        assert client.get(url).json()["count"] == 6
