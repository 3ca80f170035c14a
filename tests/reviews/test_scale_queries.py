"""Issue 18: the sign-off pages (my pending approvals, periodic reviews, the gate log, a
version and a pending request) and the review lists of the API read the database the
same number of times for a portfolio of 3 use cases and of 30 (``demo.scale``, the code
of ``manage.py seed_scale``). Exact counts."""

import pytest

pytestmark = pytest.mark.django_db


def version_page(use_case):
    from inventory.models import ModelVersion

    version = ModelVersion.objects.filter(model__use_case=use_case, environment="prod").first()
    return f"/reviews/versions/{version.pk}/"


def request_page(use_case):
    from demo.scale import scale_use_cases
    from reviews.models import PromotionRequest

    pending = PromotionRequest.objects.filter(
        status="pending", model_version__model__use_case__in=scale_use_cases()
    ).first()
    return f"/reviews/requests/{pending.pk}/"


PAGES = {
    "/reviews/": 19,
    # cold: + the audit head of the kept index (audit.figures)
    "/reviews/periodic-reviews/": 10,
    "/reviews/periodic-reviews/?page=2": 10,
    "/reviews/gate/": 4,
    "version_page": 20,  # + the documents card (one query, documents_tags)
    # + finding rules, blocking findings; + the signer's attestations and training
    "request_page": 70,
}
API = {
    "/api/v1/promotion-requests/": 5,
    "/api/v1/findings/": 6,  # scale portfolios have findings now: their rows prefetched
    "/api/v1/gate-calls/": 4,
    "/api/v1/validations/": 4,
    "/api/v1/finding-acceptances/": 4,
}
FUNCTIONS = {"version_page": version_page, "request_page": request_page}


def _urls(expected):
    return [FUNCTIONS.get(url, url) for url in expected]


@pytest.mark.parametrize("username", ["risk.officer", "approver"])
def test_signoff_pages_do_not_grow(scale_counts, username):
    counts = scale_counts(_urls(PAGES), username=username)
    assert counts == {url: [n, n] for url, n in PAGES.items()}, counts


def test_review_api_lists_do_not_grow(scale_counts):
    counts = scale_counts(_urls(API), username="governance.lead")
    assert counts == {url: [n, n] for url, n in API.items()}, counts
