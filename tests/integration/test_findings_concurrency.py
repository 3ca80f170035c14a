"""A finding verified by two people at the same moment (issue 16), from two OS
processes on the test database (a file SQLite or PostgreSQL), each with two threads:
one verification is recorded, the others are told it is verified already; no 5xx."""

import pytest

from accounts.roles import Role
from reviews.models import FindingEvent
from reviews.services import findings as svc
from tests.factories import ModelVersionFactory, api_token_for, user_with_role
from tests.integration.conftest import run_burst

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_two_verifiers_at_once_verify_once(transactional_db, team, data_scientist, tmp_path):
    version = ModelVersionFactory(model__use_case__team=team)
    risk_a = user_with_role(Role.RISK_OFFICER, username="risk-a")
    risk_b = user_with_role(Role.RISK_OFFICER, username="risk-b")
    finding, _ = svc.finding_open(version=version, by=risk_a, title="Holdout too small")
    svc.finding_remediate(finding=finding, by=data_scientist, note="Holdout doubled.")
    post = {
        "kind": "verify",
        "threads": 2,
        "url": f"/api/v1/findings/{finding.pk}/verify/",
        "data": {"note": "Checked the re-run."},
    }
    plans = [
        {"name": user.username, "token": api_token_for(user), "json_posts": [post]}
        for user in (risk_a, risk_b)
    ]

    results = run_burst(plans, tmp_path)

    codes = sorted(code for _kind, code in results)
    assert codes.count(200) == 1 and set(codes) == {200, 400}, codes
    assert FindingEvent.objects.filter(finding=finding, action="verified").count() == 1
    finding.refresh_from_db()
    assert finding.status == "verified" and finding.verified_by in (risk_a, risk_b)
