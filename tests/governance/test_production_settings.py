"""Settings of the production topology, read in a fresh process per environment:
X-Forwarded-Proto trusted only when configured, e-mail links following PORT or the
site's host, DEBUG as configured kept for seed_demo."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "s" * 60,
    "DJANGO_ALLOWED_HOSTS": "governance.example.org,.example.org",
}
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'proxy': s.SECURE_PROXY_SSL_HEADER, 'site': s.SITE_URL, "
    "'production': s.PRODUCTION, 'seed': s.DEMO_SEED_ALLOW_PRODUCTION, "
    "'storage': s.STORAGES['default']}))"
)


def settings_with(**env) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("PORT", "DEMO_SEED_ALLOW_PRODUCTION")
    }
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "governance.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_x_forwarded_proto_is_not_trusted_unless_configured():
    assert settings_with(**PRODUCTION)["proxy"] is None
    trusted = settings_with(**PRODUCTION, DJANGO_TRUST_X_FORWARDED_PROTO="true")
    assert trusted["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings_with(DJANGO_DEBUG="true")["proxy"] is None


def test_email_links_follow_the_port_in_development_and_the_host_in_production():
    assert settings_with(DJANGO_DEBUG="true", PORT="8123")["site"] == "http://127.0.0.1:8123"
    assert settings_with(DJANGO_DEBUG="true")["site"] == "http://127.0.0.1:8000"
    production = settings_with(**PRODUCTION)
    assert production["site"] == "https://governance.example.org"
    assert production["production"] is True and production["seed"] is False
    assert settings_with(**PRODUCTION, DEMO_SEED_ALLOW_PRODUCTION="true")["seed"] is True
    chosen = settings_with(**PRODUCTION, DJANGO_SITE_URL="https://gov.example.org:8443/")
    assert chosen["site"] == "https://gov.example.org:8443"


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("DJANGO_TRUST_X_FORWARDED_PROTO", "WEB_BIND", "HOST", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "governance" / "gunicorn_conf.py"))


def test_gunicorn_takes_the_scheme_from_a_proxy_only_when_configured(monkeypatch):
    assert gunicorn_settings(monkeypatch)["secure_scheme_headers"] == {}
    trusted = gunicorn_settings(monkeypatch, DJANGO_TRUST_X_FORWARDED_PROTO="true")
    assert "secure_scheme_headers" not in trusted  # gunicorn's default, for FORWARDED_ALLOW_IPS


def test_gunicorn_listens_where_the_environment_says(monkeypatch):
    conf = gunicorn_settings(monkeypatch, PORT="9100", WEB_CONCURRENCY="3")
    assert conf["bind"] == ["127.0.0.1:9100"] and conf["workers"] == 3
    assert conf["worker_class"] == "gthread" and conf["control_socket_disable"] is True
    conf = gunicorn_settings(monkeypatch, WEB_BIND="0.0.0.0:8000")
    assert conf["bind"] == ["0.0.0.0:8000"]


def test_uploads_can_go_to_a_storage_every_host_sees():
    assert settings_with(**PRODUCTION)["storage"]["BACKEND"].endswith("FileSystemStorage")
    shared = settings_with(
        **PRODUCTION,
        DJANGO_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        DJANGO_STORAGE_OPTIONS='{"location": "uploads"}',
    )["storage"]
    assert shared == {
        "BACKEND": "django.core.files.storage.InMemoryStorage",
        "OPTIONS": {"location": "uploads"},
    }


def test_object_storage_never_overwrites_evidence_and_spools_big_files_to_disk():
    """django-storages' S3 backend replaces an object of the same name unless told not
    to: a second evidence file under an earlier one's name would change what was signed.
    It also holds a whole object it reads in memory unless given a limit (issue 17)."""
    s3 = settings_with(
        **PRODUCTION,
        DJANGO_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        DJANGO_STORAGE_OPTIONS='{"bucket_name": "governance-uploads"}',
    )["storage"]
    assert s3["OPTIONS"] == {
        "bucket_name": "governance-uploads",
        "file_overwrite": False,
        "max_memory_size": 16 * 1024 * 1024,
    }
    with pytest.raises(subprocess.CalledProcessError) as refused:
        settings_with(
            **PRODUCTION,
            DJANGO_STORAGE_BACKEND="storages.backends.s3.S3Storage",
            DJANGO_STORAGE_OPTIONS='{"bucket_name": "b", "file_overwrite": true}',
        )
    assert "file_overwrite must be false" in refused.value.stderr
