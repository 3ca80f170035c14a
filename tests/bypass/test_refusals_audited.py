"""Issue 12, "Bad input": refusals at role-closed pages leave an audit event. A person
without the role who is refused a framework page, a signing page or a confirmation
page (HTTP 403, page or API) is recorded as ``access.refused`` with the path and the
reason; a refused write always, a refused read once per path and ten minutes."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.refusals import ACTION
from governance.models import FrameworkChange, RiskRule
from governance.services.framework_changes import risk_rule_propose_active
from tests.factories import UseCaseFactory

pytestmark = pytest.mark.django_db


def refusals(user):
    return AuditEvent.objects.filter(action=ACTION, actor=user)


def test_a_refused_post_to_a_framework_page_is_audited_with_path_and_reason(
    client_for, data_scientist
):
    url = reverse("governance:risk-rule-propose-new")
    response = client_for(data_scientist).post(url, {"name": "mine"})
    assert response.status_code == 403
    event = refusals(data_scientist).get()
    assert event.context["path"] == url and event.context["method"] == "POST"
    assert "governance leads" in event.reason
    assert not FrameworkChange.objects.exists()


def test_a_refused_confirmation_page_is_audited(client_for, data_scientist, team):
    use_case = UseCaseFactory(team=team)
    url = reverse("governance:use-case-classification-confirm", args=[use_case.pk])
    page = client_for(data_scientist)
    assert page.get(url).status_code == 403
    assert page.post(url, {"password": "x"}).status_code == 403
    reasons = list(refusals(data_scientist).values_list("reason", flat=True))
    assert len(reasons) == 2 and all("risk officer" in r for r in reasons)


def test_repeated_refused_reads_of_one_page_make_one_event(client_for, auditor):
    url = reverse("governance:risk-rule-propose-new")
    page = client_for(auditor)
    for _ in range(5):
        assert page.get(url).status_code == 403
    assert refusals(auditor).count() == 1


def test_refused_writes_are_each_audited(client_for, auditor):
    url = reverse("governance:risk-rule-propose-new")
    page = client_for(auditor)
    for _ in range(3):
        assert page.post(url, {}).status_code == 403
    assert refusals(auditor).count() == 3


def test_a_refused_api_write_is_audited_with_the_apis_reason(api_client_for, data_scientist):
    response = api_client_for(data_scientist).post(
        "/api/v1/risk-rules/", {"name": "x"}, format="json"
    )
    assert response.status_code == 403
    event = refusals(data_scientist).get()
    assert event.context["path"] == "/api/v1/risk-rules/"
    assert event.reason == response.json()["detail"]


def test_a_refusal_the_service_audited_is_not_recorded_twice(
    client_for, governance_lead, risk_officer
):
    change = risk_rule_propose_active(
        rule=RiskRule.objects.get(name="Customer-facing"),
        active=False,
        by=governance_lead,
        reason="Retire it.",
    )
    url = reverse("governance:framework-change-approve", args=[change.pk])
    # The proposer's own approval: refused by the service, which audits it.
    response = client_for(governance_lead).post(url, {"password": "whatever"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="framework_change.decision_refused", actor=governance_lead
    ).exists()
    assert not refusals(governance_lead).exists()


def test_anonymous_requests_are_not_recorded(client):
    url = reverse("governance:risk-rule-propose-new")
    assert client.post(url, {}).status_code in (302, 403)
    assert not AuditEvent.objects.filter(action=ACTION).exists()
