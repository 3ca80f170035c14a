"""The signing dialog in headless Chromium: an approver finds the request among their
pending approvals, signs it with their password, and sees the signature counted;
a wrong password is refused on the page; people who may not sign see no sign button,
and a signer sees Approve disabled with the reason while blocking items are open
(issue 18). No outside request, no CSP violation."""

import pytest

from inventory.services import model_version_move
from reviews.models import Signature
from reviews.services import promotion as svc
from tests.browser.conftest import csp_violations
from tests.reviews.signoff_world import PASSWORD, satisfy, with_password

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_approver_signs_in_the_dialog(
    page, live_server, world, data_scientist, risk_officer, tmp_path
):
    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="Ready for QA.")
    base = live_server.url
    sign_in(page, base, risk_officer)

    page.click("nav.mainnav >> text=Sign-offs")
    page.wait_for_url(f"{base}/reviews/")
    row = page.locator("#to-sign tbody tr", has_text=f"#{req.pk}")
    assert row.count() == 1
    row.locator("text=Review and sign").click()
    page.wait_for_url(f"{base}/reviews/requests/{req.pk}/sign/")
    assert version.artifact_sha256 in page.locator(".manifest").inner_text()

    # A wrong password: refused, nothing signed.
    page.check("input[name=meaning][value=approved]")
    page.fill("input[name=password]", "not my password")
    page.click("#sign-form button[type=submit]")
    assert "password is not correct" in page.locator("main").inner_text()
    assert not Signature.objects.exists()
    # The refusal is a 400 answer, which the browser reports on its console.
    assert page.problems == [
        "console error: Failed to load resource: the server responded with a status of "
        "400 (Bad Request)"
    ]
    page.problems.clear()

    page.check("input[name=meaning][value=approved]")
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-form button[type=submit]")
    page.wait_for_url(f"{base}/reviews/requests/{req.pk}/")
    assert "Sign-offs: 1 of 2" in page.locator("#signoffs").inner_text()
    assert page.locator("[data-testid=signature-validity]").first.inner_text().startswith("Valid")
    page.screenshot(path=str(tmp_path / "request.png"), full_page=True)
    assert Signature.objects.get().signer == risk_officer

    assert csp_violations(page) == []
    assert page.blocked == [], "pages must not load anything from another origin"
    assert page.problems == []


def test_a_non_signer_sees_no_sign_buttons(
    page, live_server, world, data_scientist, auditor, second_risk_officer
):
    """Issue 18: the requester and an auditor see why they cannot sign, no button."""
    _, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="Ready for QA.")
    with_password(auditor)
    base = live_server.url
    for person in (data_scientist, auditor):
        page.context.clear_cookies()
        sign_in(page, base, person)
        page.goto(f"{base}/reviews/requests/{req.pk}/")
        actions = page.locator(".page-actions")
        assert actions.get_by_role("link").count() == 0, actions.inner_text()
        assert page.get_by_text("Review and sign").count() == 0
        assert page.locator("[data-testid=why-not]").is_visible()
    # Accountable for no sign-off: no decision button, only a review that decides nothing.
    page.context.clear_cookies()
    sign_in(page, base, second_risk_officer)
    page.goto(f"{base}/reviews/requests/{req.pk}/")
    assert page.get_by_text("Review and sign").count() == 0
    assert page.locator(".page-actions").inner_text().strip() == "Record that you reviewed it"
    assert csp_violations(page) == [] and page.blocked == [] and page.problems == []


def test_a_signer_sees_approve_disabled_with_the_reason_while_items_block(
    page, live_server, world, data_scientist, risk_officer
):
    _, version = world
    model_version_move(version=version, to_environment="qa")
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"bias-harm-testing"})
    req = svc.request_create(version=version, by=data_scientist, justification="To preprod.")
    base = live_server.url
    sign_in(page, base, risk_officer)
    page.goto(f"{base}/reviews/requests/{req.pk}/")
    assert "Blocking items must be resolved" in page.locator("[data-testid=why-not]").inner_text()
    page.locator("[data-testid=sign-button]").click()
    page.wait_for_url(f"{base}/reviews/requests/{req.pk}/sign/")
    approve = page.locator("input[name=meaning][value=approved]")
    assert approve.is_visible() and approve.is_disabled()
    reason = page.locator("#" + approve.get_attribute("aria-describedby"))
    assert reason.inner_text() == (
        "Blocking items must be resolved or waived before anyone approves."
    )
    assert page.locator("input[name=meaning][value=rejected]").is_enabled()
    assert csp_violations(page) == [] and page.blocked == [] and page.problems == []
