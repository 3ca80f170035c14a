"""Documents asked for and signed at the same moment (issue 15), by two OS processes on
the test database (a file SQLite or PostgreSQL), each with several threads, through
Django test clients that count a view's exception as a 500: six requests for one new
document make one row and no 5xx; a validator who double-clicks "Sign" from two
browsers gets one signature."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from documents import rendering
from documents.models import DocumentSignature, GeneratedDocument
from documents.services import generation
from tests.factories import (
    PASSWORD,
    ModelVersionFactory,
    api_token_for,
    signed_validation,
    validator_user,
)
from tests.integration.conftest import private_broker, worker_database_url

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def _burst(plans: list[dict], tmp_path) -> list[list]:
    _, _, broker_env = private_broker(tmp_path)
    env = {
        **os.environ,
        **broker_env,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DATABASE_URL": worker_database_url(),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    go = str(tmp_path / "go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.burst_client", json.dumps(plan), go],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        open(go, "w").close()  # noqa: SIM115 - both processes start together
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for (out, err), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        results += json.loads(out.strip().splitlines()[-1])
    assert [r for r in results if r[1] >= 500] == [], outputs[0][1][-3000:]
    return results


def _production_password(user) -> None:
    """The processes run governance.settings, whose hashers the test settings' MD5 is
    not among: store the password as production does."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def test_six_simultaneous_requests_for_one_new_document_make_one_row(
    transactional_db, media, team, data_scientist, tmp_path
):
    version = ModelVersionFactory(model__use_case__team=team)
    post = {
        "kind": "document",
        "threads": 3,
        "url": "/api/v1/documents/",
        "data": {"kind": "model_card", "model_version": version.pk},
    }
    plans = [
        {"name": name, "token": api_token_for(data_scientist), "json_posts": [post]}
        for name in ("a", "b")
    ]

    results = _burst(plans, tmp_path)

    codes = sorted(code for _kind, code in results)
    assert len(codes) == 6 and set(codes) <= {200, 202}
    assert codes.count(202) == 1  # one made it; the others got that one back
    assert GeneratedDocument.objects.filter(model_version=version).count() == 1


def test_a_validator_signing_from_two_browsers_at_once_signs_once(
    transactional_db, media, team, risk_officer, tmp_path, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    version = ModelVersionFactory(model__use_case__team=team)
    validator = validator_user("double-click")
    signed_validation(version, by=validator)
    document, _ = generation.document_request(
        user=risk_officer, version=version, kind="validation_report"
    )
    generation.document_render(document_id=document.pk)
    _production_password(validator)
    sign = {
        "user": validator.username,
        "url": reverse("documents:document-sign", args=[document.pk]),
        "data": {"password": PASSWORD},
    }
    plans = [{"name": name, "token": "", "sign": sign} for name in ("a", "b")]

    results = _burst(plans, tmp_path)

    codes = sorted(code for _kind, code in results)
    assert codes[0] == 302 and codes[1] in (400, 403), codes  # one signed; one told why
    assert DocumentSignature.objects.filter(document=document).count() == 1
