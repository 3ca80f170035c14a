"""The test OpenID provider shared by every single sign-on test (a pytest plugin listed
in ``tests/conftest.py``): one provider process per test session (per xdist worker),
accepting the test client's callbacks on http://testserver."""

import pytest

from tests.sso_provider import Provider, require_provider

APP = "http://testserver"


@pytest.fixture(scope="session")
def provider():
    require_provider()
    running = Provider([APP])
    yield running
    running.stop()
