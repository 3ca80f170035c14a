"""Issue 18: the governance pages (my responsibilities, a use case's RACI and
obligations, policy, ethics, risk rules, framework changes) and the governance lists of
the API read the database the same number of times for a portfolio of 3 use cases and
of 30 (``demo.scale``, the code of ``manage.py seed_scale``). Exact counts."""

import pytest

pytestmark = pytest.mark.django_db


def raci_page(use_case):
    return f"/raci/use-cases/{use_case.pk}/"


def obligations_page(use_case):
    return f"/obligations/use-cases/{use_case.pk}/"


PAGES = {
    "/raci/mine/": 15,
    "/raci/mine/?letter=A": 15,
    "/raci/mine/?q=credit&page=2": 15,
    "obligations_page": 13,
    "/policy/": 12,  # + the policy's finding rules
    "/ethics/": 10,
    "/risk-rules/": 6,
    "/framework-changes/": 4,
}
API = {
    "/api/v1/regulations/": 5,
    "/api/v1/risk-questions/": 8,
    "/api/v1/risk-rules/": 6,
    "/api/v1/ethics-versions/": 7,
    "/api/v1/ethics-answer-sets/": 4,
    "/api/v1/raci-template/": 5,
    "/api/v1/considerations/": 6,
    "/api/v1/policy-versions/": 6,
    "/api/v1/regulation-requirements/": 6,
    "/api/v1/ethics-deviations/": 4,
    "/api/v1/framework-changes/": 4,
    "/api/v1/obligations/": 7,  # the page's ids, then its rows (issue 18)
    "/api/v1/change-declarations/": 4,
}
# The data scientist's RACI page also reads what they may change.
RACI_PAGE = {"risk.officer": 26, "data.scientist": 27}
FUNCTIONS = {"raci_page": raci_page, "obligations_page": obligations_page}


def _urls(expected):
    return [FUNCTIONS.get(url, url) for url in expected]


@pytest.mark.parametrize("username", ["risk.officer", "data.scientist"])
def test_governance_pages_do_not_grow(scale_counts, username):
    expected = {**PAGES, "raci_page": RACI_PAGE[username]}
    counts = scale_counts(_urls(expected), username=username)
    assert counts == {url: [n, n] for url, n in expected.items()}, counts


def test_governance_api_lists_do_not_grow(scale_counts):
    counts = scale_counts(_urls(API), username="governance.lead")
    assert counts == {url: [n, n] for url, n in API.items()}, counts
