"""Pages of four eyes on the framework: everyone with a role reads the proposals and
the rules; only a second governance lead is offered the signing forms."""

from unittest import mock

import pytest
from django.urls import reverse

from governance import tasks
from governance.models import RiskRule
from governance.services.framework_changes import risk_rule_propose_active
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(governance_lead):
    rule = RiskRule.objects.get(name="Customer-facing")
    return risk_rule_propose_active(rule=rule, active=False, by=governance_lead, reason="Tidy.")


def test_every_role_reads_the_lists_and_the_proposal(client_for, users_by_role, change):
    for user in users_by_role.values():
        c = client_for(user)
        for url in (
            reverse("governance:framework-changes"),
            reverse("governance:framework-changes") + "?status=pending",
            reverse("governance:framework-changes") + "?status=nonsense",
            reverse("governance:risk-rules"),
            reverse("governance:framework-change", args=[change.pk]),
        ):
            assert c.get(url).status_code == 200, (user, url)


def test_only_a_second_lead_is_offered_the_signature(client_for, auditor, governance_lead, change):
    url = reverse("governance:framework-change", args=[change.pk])
    assert b"Sign the approval" not in client_for(auditor).get(url).content
    assert b"Sign the approval" not in client_for(governance_lead).get(url).content
    assert b"Sign the approval" in client_for(other_lead()).get(url).content


def test_a_second_lead_rejects_with_a_reason_and_signs(client_for, change):
    c = client_for(other_lead())
    reject = reverse("governance:framework-change-reject", args=[change.pk])
    response = c.post(reject, {"password": PASSWORD, "reason": ""})
    assert response.status_code == 400 and b"A rejection needs a reason" in response.content
    with mock.patch.object(tasks.use_cases_reclassify, "delay"):
        response = c.post(reject, {"password": PASSWORD, "reason": "Keep it."})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "rejected" and RiskRule.objects.get(pk=change.risk_rule_id).active


def test_the_proposer_withdraws_on_the_page(client_for, governance_lead, change):
    url = reverse("governance:framework-change-withdraw", args=[change.pk])
    assert client_for(other_lead()).post(url, {}).status_code == 403
    assert client_for(governance_lead).post(url, {"reason": "Later."}).status_code == 302
    assert client_for(governance_lead).post(url, {}).status_code == 409  # already withdrawn
