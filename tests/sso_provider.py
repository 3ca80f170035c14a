"""A real OpenID provider process for the single sign-on tests: the certified
``oidc-provider`` npm package in ``tests/oidc_provider/`` (installed by ``make
oidc-provider``, which ``make test`` runs: ``npm ci`` from its lockfile), started on a
free port and stopped after the test.

Skipped when node, npm or the installed package is missing, unless
REQUIRE_OIDC_PROVIDER=1 (CI), which turns the skip into a failure. ``sign_in_at``
completes the provider's own sign-in pages over HTTP, as a browser would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "governance-tests"
CLIENT_SECRET = "a-test-client-secret-of-enough-length"
ACCOUNTS = {
    "risk": {"email": "risk@example.org", "name": "Rita Risk", "groups": ["risk-officers"]},
    "lead": {"email": "lead@example.org", "name": "Lena Lead", "groups": ["gov-leads", "staff"]},
    "nobody": {"email": "nobody@example.org", "name": "Noah Body", "groups": ["staff"]},
    "nogroups": {"email": "nogroups@example.org", "name": "Nina Nogroups"},
}
ROLE_MAP = {"risk-officers": "risk-officer", "gov-leads": "governance-lead"}


def provider_missing() -> str | None:
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm not found: install Node.js 20+ to run the single sign-on tests"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "tests/oidc_provider is not installed: run `make oidc-provider` (npm ci)"
    return None


def require_provider() -> None:
    reason = provider_missing()
    if reason:
        if os.environ.get("REQUIRE_OIDC_PROVIDER") == "1":
            pytest.fail(f"REQUIRE_OIDC_PROVIDER=1 but {reason}")
        pytest.skip(reason)


class Provider:
    """One running provider: its issuer URL and the test controls."""

    def __init__(self, redirect_bases: list[str], accounts: dict | None = None):
        env = {
            **os.environ,
            "PORT": "0",
            "OIDC_TEST_CLIENT_ID": CLIENT_ID,
            "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_TEST_REDIRECT_URIS": ",".join(
                f"{base}{path}"
                for base in redirect_bases
                for path in ("/oidc/callback/", "/oidc/step-up/callback/")
            ),
            "OIDC_TEST_ACCOUNTS": json.dumps(accounts or ACCOUNTS),
        }
        self.process = subprocess.Popen(
            ["node", "provider.mjs"],
            cwd=PROVIDER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()  # blocks until it listens (or exits)
        match = re.match(r"listening (\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the OpenID provider did not start: {line!r}")
        self.issuer = match.group(1)

    def set_active(self, login: str, active: bool) -> None:
        action = "activate" if active else "deactivate"
        response = requests.post(f"{self.issuer}/_test/accounts/{login}/{action}", timeout=5)
        response.raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def sso_settings(settings, provider: Provider, **overrides) -> None:
    """Point the product at ``provider`` (pytest-django's ``settings`` fixture)."""
    from accounts.sso.provider import forget_discovery

    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = dict(ROLE_MAP)
    settings.OIDC_PROVIDER_NAME = "Test provider"
    settings.SSO_ENABLED = True
    for name, value in overrides.items():
        setattr(settings, name, value)
    forget_discovery()


def sign_in_at(browser: requests.Session, url: str, login: str, app_base: str) -> str:
    """Follow the provider from ``url`` (its authorization URL), signing in as
    ``login`` on its sign-in page when it shows one, until it sends the browser back
    to ``app_base``; returns that URL (the product's callback with code and state)."""
    for _ in range(16):
        if url.startswith(app_base):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        if response.status_code != 200 or not form:
            raise AssertionError(f"unexpected provider page {response.status_code}: {url}")
        action = urljoin(url, unescape(form.group(1)))
        if 'name="login"' in response.text:
            data = {"prompt": "login", "login": login, "password": "any"}
        else:  # the provider's self-submitting form (ending another account's session)
            data = {
                unescape(name): unescape(value)
                for name, value in re.findall(
                    r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text
                )
            }
        posted = browser.post(action, data=data, allow_redirects=False, timeout=10)
        assert posted.is_redirect, posted.text[:500]
        url = urljoin(action, posted.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
