"""What a web process does once, at start-up, before any request thread exists."""

import subprocess
import sys

from django.conf import settings


def test_plotlys_lazy_imports_are_done_when_django_starts():
    """The first figures of two request threads at once met a half-imported pandas
    (a 500 on the home page under the load test); django.setup() now imports it."""
    probe = (
        "import sys, django; django.setup(); "
        "print('pandas' in sys.modules and hasattr(sys.modules['pandas'], 'Series'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "governance.settings", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip().splitlines()[-1] == "True"
