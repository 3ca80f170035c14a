"""Issue 18: the paginated and filtered pages give nobody more than before. A person
without a role is refused every page and filter (403, nothing else shown); a data
scientist filtering "my responsibilities" by another person's use case or letter sees
only their own rows; a filter value crafted to widen the list is a 400."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.selectors.raci import raci_my_responsibilities

pytestmark = pytest.mark.django_db

PAGES = [
    "/raci/mine/",
    "/raci/mine/?letter=A&q=credit",
    "/reviews/periodic-reviews/?status=overdue",
    "/reviews/",
    "/",
]


@pytest.fixture
def portfolio(db):
    from demo import scale

    scale.load(n=30, seed=0)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_no_role_is_refused_every_page_and_filter(portfolio, no_role_user, url):
    response = signed_in(no_role_user).get(url)
    assert response.status_code == 403


def test_filters_show_only_my_own_responsibilities(portfolio):
    scientist = User.objects.get(username="data.scientist")
    own = {(r["use_case"].pk, r["task"].code) for r in raci_my_responsibilities(user=scientist)}
    client = signed_in(scientist)
    for query in ({}, {"letter": "A"}, {"letter": "I"}, {"q": "IFRS"}, {"page": "2"}):
        response = client.get("/raci/mine/", query)
        assert response.status_code == 200
        shown = {
            (g["use_case"].pk, r["task"].code)
            for g in response.context["groups"]
            for r in g["rows"]
        }
        assert shown <= own, query


@pytest.mark.parametrize(
    "url",
    [
        "/raci/mine/?letter=AR",
        "/raci/mine/?letter=%25",
        "/raci/mine/?q=" + "x" * 300,
        "/reviews/periodic-reviews/?status=all",
        "/reviews/periodic-reviews/?status=overdue%27%20OR%201%3D1",
    ],
)
def test_crafted_filter_values_are_refused(portfolio, url):
    response = signed_in(User.objects.get(username="risk.officer")).get(url)
    assert response.status_code == 400
