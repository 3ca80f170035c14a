"""The demo portfolio, seeded once for the tests that read it.

``seed_demo`` takes half a minute or more; the tests of this package read the same
portfolio, so it is loaded once, inside an outer transaction. Each test runs in a
savepoint inside it (pytest-django's ``db`` fixture), so what a test writes (a second
seed, for instance) is undone after it, and the whole portfolio is rolled back after
the last test of the package: the rest of the suite starts from an empty database.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.demo.portfolio import seeded_demo


# Modules that seed their own portfolio (test_demo_scored_data.py) run before the first
# test that asks for this fixture: pytest runs this package's files in name order, and
# the seeded portfolio stays until the package ends. Name a module that reads it
# test_<what>_demo.py, after them.
@pytest.fixture(scope="package")
def demo_output(django_db_setup, django_db_blocker) -> str:
    """What the first ``seed_demo`` printed; the database holds its portfolio."""
    with seeded_demo(django_db_blocker) as output:
        yield output


def seed() -> str:
    """Run ``seed_demo`` again (inside the test's savepoint) and return its output."""
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    return out.getvalue()
