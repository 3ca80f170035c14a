"""The bias lists (scored datasets, summaries) through the API client: a bad query value
is a 400 naming the parameter, never a 500; the query count does not grow with rows."""

import pytest

from tests.factories import BiasSummaryFactory, ScoredDatasetFactory
from tests.list_checks import (
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
    f"{API}/scored-datasets/": {"model_version": ID_BAD_VALUES, "status": ["bogus", "VALID"]},
    f"{API}/bias-summaries/": {"model_version": ID_BAD_VALUES, "dataset": ID_BAD_VALUES},
}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    check_bad_value(auditor, url, name, value, expected)


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_404_naming_the_parameter(auditor, url):
    check_page_past_the_end(auditor, url)


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
    check_queries_do_not_grow(
        api_client(auditor), url, MAKERS[url].create_batch, QUERIES[url], django_assert_num_queries
    )
