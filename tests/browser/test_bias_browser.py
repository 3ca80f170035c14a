"""A bias summary in headless Chromium (issue #5): the live progress bar of a queued
summary follows the worker (here: the service, run from the test) and the page turns
into the result by itself; the charts are drawn (svg.main-svg); no CSP violation and
no request leaves the live server. An upload's validation (issue 18) shows the same way
on the version page until the worker publishes it."""

import pytest
from django.core.files.base import ContentFile

from fairness import services as svc
from tests.browser.conftest import csp_violations
from tests.fairness.test_bias_services import MAPPING, csv_bytes, upload
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.browser


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_progress_bar_then_charts(page, live_server, media, version, data_scientist, tmp_path):
    with_password(data_scientist)
    dataset, _ = upload(version, data_scientist, csv_bytes())
    summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist, queue=lambda pk: 0)
    base = live_server.url
    sign_in(page, base, data_scientist)

    page.goto(f"{base}/reviews/versions/{version.pk}/")
    page.click("#bias-card >> text=Datasets and summaries")
    page.wait_for_url(f"{base}/reviews/versions/{version.pk}/bias/")
    page.click(f"#bias-summaries >> text=#{summary.pk}")
    page.wait_for_url(f"{base}/reviews/bias/summaries/{summary.pk}/")

    bar = page.locator("progress#bias-progress")
    assert bar.count() == 1 and bar.get_attribute("max") == "100"
    assert "0 of 2,000 rows" in page.locator("#bias-progress-label").inner_text()

    svc.bias_summary_run(summary_id=summary.pk)  # the worker's part
    # progress.js sees "done" and reloads: the tables and charts replace the bar
    page.wait_for_selector("#breaches", timeout=20_000)
    assert page.locator("progress#bias-progress").count() == 0
    charts = page.locator("[data-chart]")
    charts.nth(6).locator("svg.main-svg").first.wait_for()
    assert charts.count() == 7
    for chart in charts.all():
        assert chart.locator("svg.main-svg").count() >= 1, chart.get_attribute("id")
    assert "Disparate impact of" in page.locator("#breaches").inner_text()
    page.screenshot(path=str(tmp_path / "bias-summary.png"), full_page=True)

    assert csp_violations(page) == []
    assert page.blocked == [], "pages must not load anything from another origin"
    assert page.problems == []


def test_an_upload_shows_its_validation_until_it_is_valid(
    page, live_server, media, version, data_scientist
):
    with_password(data_scientist)
    dataset, _ = svc.scored_dataset_upload(
        version=version,
        by=data_scientist,
        file=ContentFile(csv_bytes(), name="scores.csv"),
        mapping=MAPPING,
    )
    base = live_server.url
    sign_in(page, base, data_scientist)
    page.goto(f"{base}/reviews/versions/{version.pk}/bias/")
    assert page.locator(f"progress#dataset-{dataset.pk}-progress").count() == 1
    assert page.locator(f"#dataset-{dataset.pk}-status").inner_text() == "Validating"

    svc.scored_dataset_validate(dataset_id=dataset.pk)  # the worker's part
    # progress.js sees it finished and reloads: the badge says valid, the bar is gone
    page.wait_for_selector(f"#dataset-{dataset.pk} .dataset-valid", timeout=20_000)
    assert page.locator(f"progress#dataset-{dataset.pk}-progress").count() == 0
    assert csp_violations(page) == []
    assert page.blocked == [], "pages must not load anything from another origin"
