"""The sign-off lists (promotion requests, findings, gate calls; the gate log page)
through the client: a bad query value is a 400 naming the parameter (a form error on
the page), never a 500; the query count does not grow with the rows listed."""

import pytest

from tests.factories import FindingFactory, GateCallFactory, PromotionRequestFactory
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

API = "/api/v1"
LISTS = {
    f"{API}/promotion-requests/": {"status": CHOICE_BAD_VALUES, "model_version": ID_BAD_VALUES},
    f"{API}/findings/": {
        "status": CHOICE_BAD_VALUES,
        "model_version": ID_BAD_VALUES,
        "use_case": ID_BAD_VALUES,
        "team": ID_BAD_VALUES,
        "severity": CHOICE_BAD_VALUES,
        "source": CHOICE_BAD_VALUES,
        "overdue": ["maybe"],
        "opened_after": ["2026-13-01", "yesterday", "1999-12-31"],
        "opened_before": ["99999-01-01"],
        "due_before": ["2101-01-01"],
    },
    f"{API}/gate-calls/": {"decision": CHOICE_BAD_VALUES, "model_version": ID_BAD_VALUES},
}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    check_bad_value(auditor, url, name, value, expected)


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_404_naming_the_parameter(auditor, url):
    check_page_past_the_end(auditor, url)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"version": HUGE}, "version"),
        ({"model_version": "-1"}, "model_version"),
        ({"decision": "bogus"}, "decision"),
        ({"page": "999999"}, None),
        ({"use_case": HUGE}, None),
    ],
)
def test_the_gate_log_page_shows_a_bad_filter_as_an_error(auditor, query, error):
    GateCallFactory()
    response = page_client(auditor).get("/reviews/gate/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert ('class="alert alert-error"' in html) is (error is not None)
    if error:
        assert f'<span class="mono">{error}</span>' in html


def test_the_gate_log_filters_as_before(auditor):
    allowed = GateCallFactory(allowed=True, reasons=[])
    blocked = GateCallFactory()
    client = page_client(auditor)
    page = client.get("/reviews/gate/", {"decision": "allowed"}).context["page"]
    assert list(page.object_list) == [allowed]
    page = client.get("/reviews/gate/", {"version": blocked.model_version_id}).context["page"]
    assert list(page.object_list) == [blocked]


MAKERS = {
    f"{API}/promotion-requests/": PromotionRequestFactory,
    f"{API}/findings/": FindingFactory,
    f"{API}/gate-calls/": GateCallFactory,
    "/reviews/gate/": GateCallFactory,
}
# token and user, roles, count, rows | session, user, roles, count, rows
QUERIES = {
    f"{API}/promotion-requests/": 4,
    f"{API}/findings/": 5,  # + the plans' actions
    f"{API}/gate-calls/": 4,
    "/reviews/gate/": 5,
}


@pytest.mark.parametrize("url", MAKERS)
def test_list_queries_do_not_grow_with_rows(auditor, url, django_assert_num_queries):
    client = page_client(auditor) if not url.startswith(API) else api_client(auditor)
    check_queries_do_not_grow(
        client, url, MAKERS[url].create_batch, QUERIES[url], django_assert_num_queries
    )
