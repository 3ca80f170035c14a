"""Governance's filtered lists (ethics versions and answer sets, policy versions,
regulations' requirements, obligations) and parameterised reads (requirements for a
tier; the ethics compare page) through the client: a bad query value is a 400 naming
the parameter (an error on the page), never a 500; the obligation list's query count
does not grow with its rows."""

import pytest

from accounts.api import PageNumberPagination
from governance.models import Consideration
from tests.factories import ObligationFactory, UseCaseFactory
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
    f"{API}/ethics-versions/": {"scope": CHOICE_BAD_VALUES},
    f"{API}/ethics-answer-sets/": {"scope": CHOICE_BAD_VALUES, "use_case": ID_BAD_VALUES},
    f"{API}/policy-versions/": {"policy": ID_BAD_VALUES, "status": CHOICE_BAD_VALUES},
    f"{API}/regulation-requirements/": {},
    f"{API}/obligations/": {"use_case": ID_BAD_VALUES},
}


@pytest.mark.parametrize(("url", "name", "value", "expected"), bad_value_cases(LISTS))
def test_bad_query_values_are_400_naming_the_parameter(auditor, url, name, value, expected):
    check_bad_value(auditor, url, name, value, expected)


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_404_naming_the_parameter(auditor, url):
    check_page_past_the_end(auditor, url)


@pytest.mark.parametrize(
    "query", [{}, {"tier": "abc"}, {"tier": HUGE}, {"tier": "9"}, {"tier": ""}, {"tier": "-1"}]
)
def test_requirements_need_a_tier(auditor, query):
    response = api_client(auditor).get(f"{API}/policies/requirements/", query)
    assert response.status_code == 400
    assert response.json() == {"tier": ["Give a risk tier: 1, 2, 3 or 4."]}


def test_requirements_for_a_tier_and_regulations_as_before(auditor):
    query = {"tier": "2", "regulations": " gdpr, ,"}
    response = api_client(auditor).get(f"{API}/policies/requirements/", query)
    assert response.status_code == 200 and response.json()


@pytest.mark.parametrize(
    "query", [{"left": HUGE, "right": "1"}, {"left": "-1", "right": "1"}, {"left": "x"}, {}]
)
def test_the_compare_page_asks_again_for_bad_ids(auditor, query):
    response = page_client(auditor).get("/ethics/compare/", query)
    assert response.status_code == 200
    assert "Choose two answer sets to compare" in response.content.decode()


def test_obligations_active_by_default_and_superseded_on_request(auditor):
    active = ObligationFactory()
    client = api_client(auditor)
    assert [o["id"] for o in client.get(f"{API}/obligations/").json()["results"]] == [active.pk]
    assert client.get(f"{API}/obligations/", {"active": "false"}).json()["count"] == 0
    assert client.get(f"{API}/obligations/", {"use_case": active.use_case_id}).json()["count"] == 1


def test_obligations_listed_by_use_case_then_id_across_pages(auditor, monkeypatch):
    """Issue 18: the list's documented order (use case id, then obligation id), the same
    on every page, and each page's rows complete (read by id after the ids are paged)."""
    first, second = UseCaseFactory(), UseCaseFactory()
    considerations = list(Consideration.objects.order_by("-order")[:5])
    made = [
        ObligationFactory(use_case=use_case, consideration=consideration)
        for use_case, consideration in zip(
            (second, first, second, first, second), considerations, strict=True
        )
    ]
    expected = sorted(made, key=lambda o: (o.use_case_id, o.pk))
    client = api_client(auditor)
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    seen = []
    for page in (1, 2, 3):
        body = client.get(f"{API}/obligations/", {"page": page}).json()
        assert body["count"] == 5
        seen += [(o["id"], o["use_case"], o["consideration"]) for o in body["results"]]
    assert seen == [(o.pk, o.use_case_id, o.consideration.code) for o in expected]
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "ordered by use case id, then obligation id" in " ".join(
        schema["paths"][f"{API}/obligations/"]["get"]["description"].split()
    )


def test_obligation_queries_do_not_grow_with_rows(auditor, django_assert_num_queries):
    # token and user, roles, count, page ids, rows, events (with their authors)
    check_queries_do_not_grow(
        api_client(auditor),
        f"{API}/obligations/",
        ObligationFactory.create_batch,
        6,
        django_assert_num_queries,
    )
