"""seed_demo with production settings (DJANGO_DEBUG=false) refuses to load the demo users
and their public password unless asked explicitly (issue 13): `make run` started with
production settings stops at its seeding step instead."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def test_make_runs_seeding_with_production_settings_is_refused_before_touching_the_database(
    tmp_path,
):
    database = tmp_path / "production.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEMO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="governance.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="p" * 60,
        DJANGO_ALLOWED_HOSTS="governance.example.org",
        DATABASE_URL=f"sqlite:///{database}",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Refusing to load the demo portfolio: DJANGO_DEBUG is false" in done.stderr
    assert "--allow-production" in done.stderr and "DEMO_SEED_ALLOW_PRODUCTION" in done.stderr
    assert not database.exists()  # not even connected


def test_the_refusal_writes_nothing(db, settings):
    settings.PRODUCTION = True
    settings.DEMO_SEED_ALLOW_PRODUCTION = False
    users = User.objects.count()
    with pytest.raises(CommandError, match="governance-demo"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert User.objects.count() == users


def test_asked_explicitly_it_loads_the_demo(demo_output, db, settings):
    """--allow-production; DEMO_SEED_ALLOW_PRODUCTION=true does the same (the setting is
    read in tests/governance/test_production_settings.py)."""
    settings.PRODUCTION = True
    settings.DEMO_SEED_ALLOW_PRODUCTION = False
    out = StringIO()
    call_command("seed_demo", "--allow-production", stdout=out, stderr=out)
    assert User.objects.filter(username="governance.lead").exists()
