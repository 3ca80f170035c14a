"""Issue 18: the periodic reviews page at portfolio scale: every version in production
by due date, a page at a time, filtered by status; the same statuses as each version's
own ``review_status``."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from reviews.selectors.periodic import (
    REVIEW_FILTERS,
    _matches,
    periodic_review_index,
    periodic_review_rows,
    review_status,
    versions_in_production,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(db):
    from demo import scale

    scale.load(n=30, seed=0)
    client = Client()
    client.force_login(User.objects.get(username="auditor"))
    return client


def test_every_version_in_production_is_listed_with_its_own_status(signed_in):
    rows = periodic_review_rows()
    assert len(rows) == versions_in_production().count() > 0
    for version, status in rows:
        own = review_status(version)
        assert (status.due, status.overdue_days, status.interval_days) == (
            own.due,
            own.overdue_days,
            own.interval_days,
        )
    dues = [s.due for _, s in rows if s.due]
    assert dues == sorted(dues)


def test_the_page_shows_a_page_and_filters_by_status(signed_in, settings):
    response = signed_in.get("/reviews/periodic-reviews/")
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(50, versions_in_production().count())
    overdue = periodic_review_index(status="overdue")
    response = signed_in.get("/reviews/periodic-reviews/", {"status": "overdue"})
    assert [v.pk for v, _ in response.context["rows"]] == overdue[:50]
    assert all(s.overdue for _, s in response.context["rows"])
    current = signed_in.get("/reviews/periodic-reviews/", {"status": "current"})
    assert all(s.due and not s.overdue for _, s in current.context["rows"])


def test_an_unknown_status_is_a_400_naming_it(signed_in):
    response = signed_in.get("/reviews/periodic-reviews/", {"status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.content.decode()


@pytest.mark.parametrize("days", [-400, 0, 200, 800])
def test_each_filter_keeps_exactly_the_versions_whose_own_status_matches(signed_in, days):
    """The index filters on due dates alone (not a status per version): it must keep
    the same versions as each one's own ``review_status`` under the page's rules."""
    today = timezone.localdate() + timedelta(days=days)
    own = {v.pk: review_status(v, today=today) for v in versions_in_production()}
    kept = set()
    for status in REVIEW_FILTERS:
        expected = {pk for pk, found in own.items() if _matches(found, status)}
        assert set(periodic_review_index(status=status, today=today)) == expected, status
        kept |= expected
    assert kept == set(own)  # every version is in some filter
