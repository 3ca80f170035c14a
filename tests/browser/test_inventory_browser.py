"""Headless Chromium against the live server: sign in through the login form, open the
inventory and a use case, and see the home heatmap drawn by plotly.js, with no
request leaving the server, no console error and no CSP violation."""

import pytest

from governance.services import classification_submit
from inventory.models import Regulation
from tests.browser.conftest import csp_violations
from tests.factories import (
    PASSWORD,
    ModelVersionFactory,
    UseCaseFactory,
    full_answers,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def portfolio(team, data_scientist, risk_officer):
    use_case = UseCaseFactory(
        name="Retail credit scoring",
        team=team,
        business_owner=data_scientist,
        technical_owner=data_scientist,
        status="production",
        uses_pii=True,
    )
    use_case.regulations.set(Regulation.objects.filter(code__in=["sr-11-7", "gdpr"]))
    ModelVersionFactory(model__use_case=use_case, model__name="pd-gbm", version_label="2.0.0")
    classification_submit(
        use_case=use_case,
        answers=full_answers(availability="realtime", audience="customers"),
        by=risk_officer,
    )
    UseCaseFactory(name="Campaign uplift analysis", team=team, status="idea")
    return use_case


def test_sign_in_open_inventory_use_case_and_home_chart(page, live_server, portfolio, risk_officer):
    base = live_server.url

    # Signing in through the form, coming from the inventory.
    page.goto(f"{base}/inventory/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", risk_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/inventory/")
    assert csp_violations(page) == []

    # The inventory lists the use case with its tier; open it.
    row = page.locator("table.table-list tbody tr", has_text="Retail credit scoring")
    assert row.count() == 1
    assert "High" in row.inner_text()
    page.click("text=Retail credit scoring")
    page.wait_for_url(f"{base}/inventory/use-cases/{portfolio.pk}/")
    assert page.locator("h1").inner_text() == "Retail credit scoring"
    classification = page.locator("#classification")
    assert "Fully controlled CI/CD deployment" in classification.inner_text()
    assert page.locator(".reason-decisive").count() >= 1
    assert "pd-gbm" in page.locator("#models").inner_text()
    assert csp_violations(page) == []

    # Home: the heatmap is drawn by plotly.js (an svg inside the chart container).
    page.goto(f"{base}/")
    page.wait_for_selector("#chart-heatmap svg.main-svg")
    assert page.locator("#chart-heatmap svg").count() >= 1
    assert page.locator("#chart-heatmap .hm, #chart-heatmap image").count() >= 1
    assert csp_violations(page) == []

    # A heatmap cell links to the inventory filtered to it (level 4 x High: column 3 of
    # 4, top row of 4).
    box = page.locator("#chart-heatmap .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 2.5 / 4, box["y"] + box["height"] * 0.5 / 4)
    assert "1 use case(s)" in page.locator("#chart-heatmap .hovertext").text_content()
    page.mouse.click(box["x"] + box["width"] * 2.5 / 4, box["y"] + box["height"] * 0.5 / 4)
    page.wait_for_url(f"{base}/inventory/?criticality=4&risk_tier=3")
    assert page.locator("table.table-list tbody tr").count() == 1

    assert page.blocked == [], "pages must not load anything from another origin"
    assert page.problems == []


def test_policy_and_ethics_pages_render_offline(page, live_server, risk_officer):
    """The published policy's heatmap is drawn, and the Step 2 and 4 pages load with
    no outside request, console error or CSP violation."""
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", risk_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/policy/")
    page.wait_for_selector("#chart-policy svg.main-svg")
    # the chart names each consideration, a long name on two lines (issue 18)
    labels = page.locator("#chart-policy .ytick").all_text_contents()
    assert any("Human-in-the-loop" in t and "sign-off" in t for t in labels), labels
    assert csp_violations(page) == []

    page.goto(f"{base}/ethics/")
    assert page.locator("h1").count() == 1
    assert csp_violations(page) == []

    assert page.blocked == [], "pages must not load anything from another origin"
    assert page.problems == []
