"""Governance's catalogue lists through the API: the number of queries a list takes does
not grow with the rows it lists (each list is read with a few rows, then with more)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import (
    Consideration,
    EthicsTemplate,
    Policy,
    PolicyVersion,
    RaciRole,
    RaciTask,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from inventory.models import Regulation
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _policies(i: int) -> None:
    policy = Policy.objects.create(code=f"extra-{i}", name=f"Extra policy {i}")
    now = timezone.now()
    for number in (1, 2):
        PolicyVersion.objects.create(
            policy=policy, status="published", number=number, created_at=now, published_at=now
        )
    PolicyVersion.objects.create(policy=policy, created_at=now)  # the draft


def _questions(i: int) -> RiskQuestion:
    question = RiskQuestion.objects.create(
        code=f"extra-{i}",
        text=f"Extra question {i}?",
        kind="single",
        source="answer",
        dimension="impact",
    )
    for n in range(3):
        RiskQuestionOption.objects.create(question=question, code=f"o{n}", label=f"Option {n}")
    return question


def _rules(i: int) -> None:
    question = _questions(1000 + i)
    rule = RiskRule.objects.create(
        name=f"Extra rule {i}", explanation="Because.", min_tier=2, order=100 + i
    )
    RiskRuleCondition.objects.create(rule=rule, question=question, operator="equals", values=["o1"])


MAKERS = {
    f"{API}/policies/": _policies,
    f"{API}/regulations/": lambda i: Regulation.objects.create(code=f"extra-{i}", name=f"R {i}"),
    f"{API}/risk-questions/": _questions,
    f"{API}/risk-rules/": _rules,
    f"{API}/raci-roles/": lambda i: RaciRole.objects.create(
        code=f"extra-{i}", name=f"Role {i}", level="tactical"
    ),
    f"{API}/raci-tasks/": lambda i: RaciTask.objects.create(code=f"extra-{i}", name=f"Task {i}"),
    f"{API}/considerations/": lambda i: Consideration.objects.create(
        code=f"extra-{i}", name=f"Consideration {i}", order=100 + i
    ),
    f"{API}/ethics-templates/": None,  # one per scope: nothing to add
}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"page_size": 100}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", MAKERS)
def test_list_queries_do_not_grow_with_rows(auditor, url):
    client = api_client(auditor)
    make = MAKERS[url]
    for i in range(2 if make else 0):
        make(i)
    client.get(url)  # warm the per-process caches
    few = _queries(client, url)
    for i in range(2, 8 if make else 0):
        make(i)
    assert _queries(client, url) == few, url
    assert EthicsTemplate.objects.exists()


def test_each_policy_names_its_latest_published_version_and_its_draft(auditor):
    _policies(0)
    policy = Policy.objects.get(code="extra-0")
    by_status = {(v.status, v.number): v.pk for v in policy.versions.all()}
    rows = api_client(auditor).get(f"{API}/policies/", {"page_size": 100}).json()["results"]
    row = next(r for r in rows if r["code"] == "extra-0")
    assert row["latest_published"] == by_status[("published", 2)]
    assert row["draft"] == by_status[("draft", None)]
