"""The monitoring page of a version and an analysed experiment in headless Chromium:
the charts are drawn by the vendored plotly.js (no request leaves the server), with no
console error and no CSP violation."""

import pytest
from django.urls import reverse

from monitoring.models import ReferenceProfile
from tests.browser.conftest import csp_violations
from tests.experiments.test_experiments_services import analysed, draft, fill_ab
from tests.monitoring.monitoring_data import build_profile, configure, reference_dataset
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


def test_monitoring_page_follows_the_reference_profile_build(
    page, live_server, world, data_scientist, risk_officer, media
):
    # Issue 18: the page polls the profile's state while a worker builds it and shows the
    # result without anyone reloading it.
    _, version = world
    reference = reference_dataset(version, data_scientist)
    config = configure(version, data_scientist, reference, build=False)
    base = live_server.url
    sign_in(page, base, risk_officer)
    page.goto(base + reverse("monitoring:monitoring", args=[version.pk]))
    panel = page.locator("#reference-profile")
    assert panel.get_attribute("data-status") == "queued"
    assert "queued for a worker" in panel.inner_text()

    ReferenceProfile.objects.filter(dataset=reference).update(
        status=ReferenceProfile.Status.BUILDING
    )
    page.wait_for_selector("#reference-profile[data-status=building]")
    assert "being built" in panel.inner_text()
    assert page.locator("#reference-profile-chip").inner_text() == "Building"

    build_profile(config)  # the worker's task, on the real file
    page.wait_for_selector("#reference-profile[data-status=ready]")
    assert "Reference profile ready: 4,000 rows" in panel.inner_text()
    assert page.locator("#reference-profile[data-status-url]").count() == 0  # stopped
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
