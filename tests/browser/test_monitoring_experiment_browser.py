"""The monitoring page of a version and an analysed experiment in headless Chromium:
the charts are drawn by the vendored plotly.js (no request leaves the server), with no
console error and no CSP violation."""

import pytest
from django.urls import reverse

from tests.browser.conftest import csp_violations
from tests.experiments.test_experiments_services import analysed, draft, fill_ab
from tests.monitoring.test_monitoring_services import compute, stable_then_shift
from tests.reviews.signoff_world import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")


def assert_clean(page):
    assert csp_violations(page) == []
    assert page.blocked == [], "pages must not load anything from another origin"
    assert page.problems == []


def test_monitoring_page_draws_its_charts(
    page, live_server, config, data_scientist, risk_officer, django_capture_on_commit_callbacks
):
    stable_then_shift(config, data_scientist)
    compute(config, django_capture_on_commit_callbacks)
    base = live_server.url
    sign_in(page, base, risk_officer)
    page.goto(base + reverse("monitoring:monitoring", args=[config.model_version_id]))
    page.wait_for_selector("#chart-heatmap svg.main-svg")
    page.wait_for_selector("#chart-distribution svg.main-svg")
    assert "alert" in page.locator("main").inner_text().lower()
    assert_clean(page)


def test_analysed_experiment_draws_accrual_and_result(page, live_server, arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment = analysed(experiment, data_scientist, fill_ab(experiment))
    base = live_server.url
    sign_in(page, base, data_scientist)
    page.goto(base + reverse("experiments:experiment-detail", args=[experiment.pk]))
    page.wait_for_selector("[data-chart] svg.main-svg")
    assert page.locator("[data-chart] svg.main-svg").count() >= 2
    assert "Challenger better" in page.locator("main").inner_text()
    assert_clean(page)
