"""Findings management in headless Chromium (issue 16): a risk officer opens the
portfolio's findings, sees the ageing chart drawn from the static plotly.js and filters
by severity; the owner sees the count of their work in the navigation, finds the
finding on My work, records a plan and marks it remediated on the finding's page; the
risk officer verifies it. No outside request, no CSP violation."""

import datetime as dt

import pytest
from django.utils import timezone

from reviews.models import Finding
from reviews.services import findings as svc
from tests.browser.conftest import csp_violations
from tests.browser.test_signoff_browser import sign_in

pytestmark = pytest.mark.browser


def test_the_flow_on_the_pages(page, live_server, world, risk_officer, analyst, tmp_path):
    _, version = world
    finding, _ = svc.finding_open(
        version=version, by=risk_officer, title="Holdout too small", severity="high"
    )
    svc.finding_open(version=version, by=risk_officer, title="Typo in the card", severity="low")
    base = live_server.url

    sign_in(page, base, risk_officer)
    page.goto(f"{base}/reviews/findings/")
    page.locator("#chart-ageing svg.main-svg").first.wait_for()
    assert "Holdout too small" in page.locator("[data-testid=findings-table]").inner_text()
    page.select_option("#id_severity", "low")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**severity=low**")
    table = page.locator("[data-testid=findings-table]").inner_text()
    assert "Typo in the card" in table and "Holdout too small" not in table
    page.screenshot(path=str(tmp_path / "findings.png"), full_page=True)
    page.context.clear_cookies()

    # The owner (the RACI's Accountable for data modeling) plans and remediates.
    sign_in(page, base, analyst)
    # The navigation's count (fetched by a static script) and the My work page.
    badge = page.locator("a[data-my-work-counts] .nav-count")
    badge.wait_for(state="visible")
    assert int(badge.inner_text()) >= 1
    page.click("a[data-my-work-counts]")
    page.wait_for_url(f"{base}/my-work/")
    page.locator("#work-findings", has_text="Holdout too small").wait_for()
    page.click(f"#work-findings a[href='/reviews/findings/{finding.pk}/']")
    page.wait_for_url(f"{base}/reviews/findings/{finding.pk}/")
    day = timezone.localdate() + dt.timedelta(days=5)
    page.fill("#id_plan", "Double the holdout and re-run the back-test.")
    page.fill("#id_actions", f"{day} Draw a new holdout")
    page.click("[data-testid=plan-form] button[type=submit]")
    page.wait_for_url(f"{base}/reviews/findings/{finding.pk}/")
    assert page.locator("[data-testid=finding-status]").inner_text() == "Remediation planned"
    page.click("[data-testid=plan-actions] button[type=submit]")
    page.wait_for_url(f"{base}/reviews/findings/{finding.pk}/")
    page.fill("#remediate-note", "Holdout doubled; back-test attached.")
    page.click("[data-testid=remediate-form] button[type=submit]")
    page.wait_for_url(f"{base}/reviews/findings/{finding.pk}/")
    assert page.locator("[data-testid=finding-status]").inner_text() == "Remediated"
    # The owner is offered no verification.
    assert page.locator("[data-testid=verify-form]").count() == 0
    page.context.clear_cookies()

    sign_in(page, base, risk_officer)
    page.goto(f"{base}/reviews/findings/{finding.pk}/")
    page.fill("#verify-note", "Re-run checked.")
    page.click("[data-testid=verify-form] button[value=verified]")
    page.wait_for_url(f"{base}/reviews/findings/{finding.pk}/")
    assert page.locator("[data-testid=finding-status]").inner_text() == "Verified"
    assert "Verified" in page.locator("[data-testid=finding-events]").inner_text()
    page.screenshot(path=str(tmp_path / "finding.png"), full_page=True)
    assert Finding.objects.get(pk=finding.pk).verified_by == risk_officer
    assert csp_violations(page) == []
    assert page.problems == []
