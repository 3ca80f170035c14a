"""Headless Chromium for the browser tests: the browser, a page that refuses every
request leaving the live server and records console errors and CSP violations.

Needs /usr/bin/chromium (Debian package ``chromium``); skipped without it unless
REQUIRE_BROWSER=1, which turns the skip into a failure (CI).
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
# from a thread with a running loop unless told that this is fine (it is: tests).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Recorded in the page from its first script, before any of ours.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: apt-get install chromium to run the browser tests"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.blocked = []
    page.problems = []

    def only_live_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_live_server)
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")
