"""plotly.js only on pages that draw a chart (issue 18): the home page's heatmap fetches
it once and draws; a use case, a request and a version page, which draw none, never
download its 5.2 MB."""

import pytest
from django.urls import reverse

from reviews.services import promotion as svc
from tests.browser.conftest import csp_violations
from tests.browser.test_signoff_browser import sign_in

pytestmark = pytest.mark.browser

PLOTLY = "/static/vendor/plotly/plotly-strict.min.js"


def test_plotly_is_fetched_only_where_a_chart_is_drawn(
    page, live_server, world, data_scientist, risk_officer
):
    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="Ready for QA.")
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith(PLOTLY) else None)
    base = live_server.url
    sign_in(page, base, risk_officer)  # lands on the home page, which draws its heatmap
    page.wait_for_selector("#chart-heatmap .main-svg")
    assert fetched == [base + PLOTLY]

    fetched.clear()
    for path in (
        reverse("dashboard:use-case-detail", args=[use_case.pk]),
        reverse("reviews:request-detail", args=[req.pk]),
        reverse("reviews:version", args=[version.pk]),
    ):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-chart]").count() == 0, path
    assert fetched == []
    assert csp_violations(page) == [] and page.blocked == [] and page.problems == []
