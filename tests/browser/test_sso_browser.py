"""Single sign-on in headless Chromium against a real OpenID provider (issue 17): the
risk officer signs in through the provider's own sign-in page, opens the signing
dialog (no password field), is sent back to the provider to sign in again, and comes
back to a signed request. No CSP violation on the product's pages."""

import pytest

from accounts.models import SsoIdentity
from reviews.models import Signature
from reviews.services import promotion as svc
from tests.browser.conftest import csp_violations
from tests.sso_provider import Provider, require_provider, sso_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(live_server):
    require_provider()
    running = Provider([live_server.url])
    yield running
    running.stop()


def sign_in_at_provider(page, login: str) -> None:
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the test provider takes it")
    page.click("button[type=submit]")


def test_sign_in_and_sign_through_the_provider(
    browser, live_server, provider, settings, world, data_scientist, risk_officer
):
    sso_settings(settings, provider)
    _, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="Ready for QA.")
    SsoIdentity.objects.create(user=risk_officer, issuer=provider.issuer, subject="risk")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(
        "window.__cspViolations = []; document.addEventListener("
        "'securitypolicyviolation', (e) => window.__cspViolations.push("
        "`${e.violatedDirective} ${e.blockedURI}`));"
    )
    try:
        page.goto(f"{base}/accounts/login/")
        page.click("#sso-sign-in")
        sign_in_at_provider(page, "risk")
        page.wait_for_url(f"{base}/")

        page.goto(f"{base}/reviews/requests/{req.pk}/sign/")
        assert page.locator("input[name=password]").count() == 0
        page.check("input[name=meaning][value=approved]")
        assert csp_violations(page) == []
        page.click("#sign-form button[type=submit]")
        sign_in_at_provider(page, "risk")  # prompt=login: the provider asks again
        page.wait_for_url(f"{base}/reviews/requests/{req.pk}/")
        assert "Sign-offs: 1 of 2" in page.locator("#signoffs").inner_text()
        assert csp_violations(page) == []
    finally:
        context.close()
    signature = Signature.objects.get()
    assert signature.signer == risk_officer
    assert signature.auth_method == "provider re-authentication"
