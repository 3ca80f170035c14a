"""The embedded default under concurrent writers (issue 13): two OS processes on one
SQLite file (WAL, IMMEDIATE transactions, a busy timeout), each with several threads,
send 60 API PATCHes, 24 bias-summary requests and a signature each at the same moment:
no request answers 5xx, and every write is there.

Each process runs governance.settings (what `make run` runs) on the test database,
through Django test clients that count a view's exception as a 500 instead of raising it.
"""

import pytest
from django.db import connection
from django.urls import reverse

from fairness.models import BiasSummary
from inventory.models import UseCase
from reviews.models import Signature
from reviews.services import promotion as review_svc
from tests.factories import ScoredDatasetFactory, UseCaseFactory, api_token_for
from tests.integration.conftest import production_password, run_burst
from tests.reviews.signoff_world import PASSWORD

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


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
        production_password(signer, PASSWORD)
    request = review_svc.request_create(version=version, by=data_scientist, justification="QA")
    sign_url = reverse("reviews:request-sign", args=[request.pk])
    signed = {"meaning": "approved", "password": PASSWORD, "reason": ""}

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
    results = run_burst(plans, tmp_path)  # no 5xx among them

    by_kind: dict[str, list[int]] = {}
    for kind, code in results:
        by_kind.setdefault(kind, []).append(code)
    assert len(by_kind["patch"]) == 60 and set(by_kind["patch"]) == {200}
    assert len(by_kind["summary"]) == 24 and set(by_kind["summary"]) == {202}
    assert sorted(by_kind["sign"]) == [302, 302]
    # every write is there
    assert BiasSummary.objects.filter(dataset=dataset).count() == 24
    assert Signature.objects.filter(request=request).count() == 2
    purposes = UseCase.objects.filter(pk__in=cases).values_list("purpose", flat=True)
    assert all(p.startswith("Burst ") for p in purposes)
