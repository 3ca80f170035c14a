"""The embedded default under concurrent writers (issue 13): two OS processes on one
SQLite file (WAL, IMMEDIATE transactions, a busy timeout), each with several threads,
send 60 API PATCHes, 24 bias-summary requests and a signature each at the same moment:
no request answers 5xx, and every write is there.

Each process runs governance.settings (what `make run` runs) on the test database,
through Django test clients that count a view's exception as a 500 instead of raising it.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from fairness.models import BiasSummary
from inventory.models import UseCase
from reviews.models import Signature
from reviews.services import promotion as review_svc
from tests.factories import ScoredDatasetFactory, UseCaseFactory, api_token_for
from tests.integration.conftest import private_broker, worker_database_url
from tests.reviews.signoff_world import PASSWORD

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def start(plan: dict, go: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.burst_client", json.dumps(plan), go],
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_of_concurrent_writes_get_no_5xx(
    transactional_db, world, data_scientist, risk_officer, approver, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default's test (PostgreSQL has its own locking)")
    use_case, version = world
    cases = [use_case.pk] + [UseCaseFactory(team=use_case.team).pk for _ in range(3)]
    dataset = ScoredDatasetFactory(
        model_version=version,
        columns=["race", "y", "y_hat"],
        mapping={"outcome": "y", "prediction": "y_hat", "sensitive": ["race"]},
    )
    token = api_token_for(data_scientist)
    for signer in (risk_officer, approver):
        # the processes run governance.settings, whose hashers the test settings' MD5
        # is not among: store the password as production does
        hasher = PBKDF2PasswordHasher()
        signer.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
        signer.save(update_fields=["password"])
    request = review_svc.request_create(version=version, by=data_scientist, justification="QA")
    sign_url = reverse("reviews:request-sign", args=[request.pk])
    signed = {"meaning": "approved", "password": PASSWORD, "reason": ""}

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
    common = {
        "token": token,
        "use_cases": cases,
        "dataset": dataset.pk,
        "patch_threads": 3,
        "patches_per_thread": 10,
        "summary_threads": 3,
        "summaries_per_thread": 4,
    }
    plans = [
        {
            **common,
            "name": "a",
            "summary_offset": 10,
            "sign": {"user": risk_officer.username, "url": sign_url, "data": signed},
        },
        {
            **common,
            "name": "b",
            "summary_offset": 40,
            "sign": {"user": approver.username, "url": sign_url, "data": signed},
        },
    ]
    procs = [start(plan, go, env) for plan in plans]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read()
        open(go, "w").close()  # noqa: SIM115 - both processes start together
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for (out, err), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, err
        results += json.loads(out.strip().splitlines()[-1])

    by_kind: dict[str, list[int]] = {}
    for kind, code in results:
        by_kind.setdefault(kind, []).append(code)
    server_errors = [r for r in results if r[1] >= 500]
    assert server_errors == [], outputs[0][1][-3000:] + outputs[1][1][-3000:]
    assert len(by_kind["patch"]) == 60 and set(by_kind["patch"]) == {200}
    assert len(by_kind["summary"]) == 24 and set(by_kind["summary"]) == {202}
    assert sorted(by_kind["sign"]) == [302, 302]
    # every write is there
    assert BiasSummary.objects.filter(dataset=dataset).count() == 24
    assert Signature.objects.filter(request=request).count() == 2
    purposes = UseCase.objects.filter(pk__in=cases).values_list("purpose", flat=True)
    assert all(p.startswith("Burst ") for p in purposes)
