"""Governance KPIs and the framework review in headless Chromium (issue 16, Step 8): a
governance lead opens /kpis/, sees the trend charts drawn by the static plotly.js and the
KRI in breach, switches the period, opens a framework review, sees its chart and signs
it with the password typed again. No outside request, no console error, no CSP
violation."""

import datetime as dt

import pytest
from django.utils import timezone

from oversight.models import GovernanceSnapshot, KeyRiskIndicator
from oversight.services import framework as svc
from oversight.services.snapshots import snapshot_take
from tests.browser.conftest import csp_violations
from tests.browser.test_signoff_browser import sign_in
from tests.oversight.portfolio import build_portfolio
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.browser


def test_kpis_and_a_framework_review_on_the_pages(page, live_server, governance_lead, tmp_path):
    lead = with_password(governance_lead)
    build_portfolio()
    today = timezone.localdate()
    GovernanceSnapshot.objects.bulk_create(
        GovernanceSnapshot(
            day=today - dt.timedelta(days=i),
            taken_at=timezone.now(),
            indicators={"findings.open": 10 - i % 5, "obligations.open": 6 + i % 3},
        )
        for i in range(1, 60)
    )
    snapshot_take()
    KeyRiskIndicator.objects.create(indicator="findings.open", name="Open findings", breach_level=3)
    review = svc.framework_review_create(
        by=lead, period_start=today - dt.timedelta(days=364), period_end=today
    )
    svc.framework_review_conclude(review=review, by=lead, conclusion="The framework works.")
    base = live_server.url

    sign_in(page, base, lead)
    page.click("nav.mainnav a[href='/kpis/']")
    page.wait_for_url(f"{base}/kpis/")
    page.locator("#chart-findings svg.main-svg").first.wait_for()
    page.locator("#chart-obligations svg.main-svg").first.wait_for()
    assert "Breach" in page.locator("[data-testid=kri-status]").inner_text()
    page.click("[data-testid=periods] a[href='?days=30']")
    page.wait_for_url("**days=30**")
    page.locator("#chart-findings svg.main-svg").first.wait_for()
    page.screenshot(path=str(tmp_path / "kpis.png"), full_page=True)

    page.goto(f"{base}/kpis/reviews/{review.pk}/")
    page.locator("#chart-cells svg.main-svg").first.wait_for()
    page.fill("#sign-form input[name=password]", PASSWORD)
    page.click("#sign-form button[type=submit]")
    page.wait_for_url(f"{base}/kpis/reviews/{review.pk}/")
    assert page.locator("[data-testid=review-status]").inner_text() == "Signed"
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    assert page.blocked == []
    assert csp_violations(page) == []
    assert page.problems == []
