"""The experiment list (API and page) through the client: a bad query value is a 400
naming the parameter (a form error on the page), never a 500; the query count does not
grow with the rows listed; the assignment's ``key`` is validated."""

import pytest

from tests.factories import ExperimentFactory
from tests.list_checks import (
    CHOICE_BAD_VALUES,
    HUGE,
    ID_BAD_VALUES,
    api_client,
    bad_value_cases,
    check_bad_value,
    check_page_past_the_end,
    check_queries_do_not_grow,
    page_client,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/experiments/"
PAGE = "/reviews/experiments/"
LISTS = {API: {"use_case": ID_BAD_VALUES, "status": CHOICE_BAD_VALUES}}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    check_bad_value(auditor, url, name, value, expected)


def test_a_page_past_the_end_is_404_naming_the_parameter(auditor):
    check_page_past_the_end(auditor, API)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"use_case": HUGE}, "use_case"),
        ({"use_case": "-1"}, "use_case"),
        ({"status": "bogus"}, "status"),
        ({"model_version": "-1"}, None),
        ({"tier": "abc"}, None),
        ({"page": "999999"}, None),
    ],
)
def test_the_page_shows_a_bad_filter_as_an_error(auditor, query, error):
    ExperimentFactory()
    response = page_client(auditor).get(PAGE, query)
    assert response.status_code == 200
    html = response.content.decode()
    assert ('class="alert alert-error"' in html) is (error is not None)
    if error:
        assert f'<span class="mono">{error}</span>' in html


def test_the_page_and_the_api_filter_as_before(auditor):
    one, other = ExperimentFactory(), ExperimentFactory(status="running")
    client = page_client(auditor)
    response = client.get(PAGE, {"use_case": one.use_case_id})
    assert list(response.context["experiments"]) == [one]
    assert response.context["use_case"] == one.use_case
    assert list(client.get(PAGE, {"status": "running"}).context["experiments"]) == [other]
    body = api_client(auditor).get(API, {"status": "draft"}).json()
    assert [row["id"] for row in body["results"]] == [one.pk]


QUERIES = {API: 4, PAGE: 4}  # token and user, roles, count, rows | session, user, roles, rows


@pytest.mark.parametrize("url", QUERIES)
def test_list_queries_do_not_grow_with_rows(auditor, url, django_assert_num_queries):
    client = api_client(auditor) if url == API else page_client(auditor)
    check_queries_do_not_grow(
        client, url, ExperimentFactory.create_batch, QUERIES[url], django_assert_num_queries
    )
