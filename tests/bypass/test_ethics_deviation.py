"""Issue 12, item 5: the ethical position fed nothing. Now an open deviation stops moves
past QA until the use case's Accountable of model acceptance accepts it (a signed act,
with a reason and an expiry); a declared prohibited harm is never accepted. Each route
tried as the person it constrains, through the API and the page: refused, nothing
written, the refusal audited."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import EthicsDeviation, EthicsDeviationAcceptance, RaciRole
from governance.selectors.ethics import ethics_blocking
from governance.services import ethics_position_answer, ethics_use_case_answer, raci_assign
from reviews.models import BlockingWaiver
from reviews.selectors.promotion import request_state
from reviews.services import promotion as svc
from tests.factories import PASSWORD, ModelVersionFactory, UseCaseFactory
from tests.governance.four_eyes import other_lead, position_approve
from tests.governance.test_ethics_services import position_answers, use_case_answers

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def deviating(team, governance_lead, risk_officer, data_scientist):
    """A use case answering transparency 1 against the position's 4 (tolerance 1) and
    declaring manipulation; the risk officer is its Accountable of model acceptance."""
    answer_set = ethics_position_answer(
        answers=position_answers(transparency=4), by=governance_lead, tolerance=1
    )
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        position_approve(answer_set=answer_set, by=other_lead())
    use_case = UseCaseFactory(team=team)
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="risk-audit"),
        by=governance_lead,
        user=risk_officer,
    )
    ethics_use_case_answer(
        use_case=use_case,
        answers=use_case_answers(transparency=1, psychology=["manipulation"]),
        by=data_scientist,
    )
    risk_officer.set_password(PASSWORD)
    risk_officer.save()
    return use_case


def deviation(use_case, code="transparency"):
    return EthicsDeviation.objects.get(use_case=use_case, code=code, closed_at=None)


def session_api(user):
    client = APIClient()
    client.force_login(user)
    return client


def accept_body(**overrides):
    body = {
        "reason": "Explanations go to the investigators, not to the customer at decision time.",
        "expires_on": str(timezone.localdate() + timedelta(days=90)),
        "password": PASSWORD,
    }
    return {**body, **overrides}


def codes(use_case, env):
    return [code for code, _ in ethics_blocking(use_case, env)]


def test_open_deviations_block_past_qa_only(deviating):
    assert codes(deviating, "qa") == []
    assert codes(deviating, "preprod") == ["ethics:psychology:manipulation", "ethics:transparency"]
    assert codes(deviating, "prod") == ["ethics:psychology:manipulation", "ethics:transparency"]


def test_the_gate_blocks_an_unaccepted_deviation(deviating, data_scientist, api_client_for):
    version = ModelVersionFactory(model__use_case=deviating, authors=[data_scientist])
    response = api_client_for(data_scientist).post(
        f"{API}/gate/", {"model_version": version.pk, "environment": "prod"}, format="json"
    )
    reasons = [r["code"] for r in response.json()["reasons"]]
    assert response.json()["allowed"] is False
    assert {"ethics:transparency", "ethics:psychology:manipulation"} <= set(reasons)


@pytest.mark.parametrize("who", ["data_scientist", "governance_lead", "approver", "auditor"])
def test_only_the_accountable_accepts_api(request, who, deviating):
    user = request.getfixturevalue(who)
    user.set_password(PASSWORD)
    user.save()
    row = deviation(deviating)
    response = session_api(user).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    assert response.status_code == 403, response.content
    assert not EthicsDeviationAcceptance.objects.exists()
    if who in ("data_scientist", "governance_lead"):
        # Approvers and auditors are read-only in the whole API (refused before the
        # service); the others reach it, which records the refused signing attempt.
        refused = AuditEvent.objects.filter(action="ethics.deviation_accept_refused").get()
        assert refused.actor == user and refused.object_id == str(row.pk)


def test_the_developer_is_refused_on_the_page(deviating, data_scientist, client_for):
    row = deviation(deviating)
    response = client_for(data_scientist).post(
        reverse("governance:ethics-deviation-accept", args=[row.pk]), accept_body()
    )
    assert response.status_code == 403
    assert "Accountable" in response.content.decode() or "second line" in response.content.decode()
    assert not EthicsDeviationAcceptance.objects.exists()


def test_a_risk_officer_in_the_developing_team_is_refused(deviating, risk_officer, team):
    team.members.add(risk_officer)
    row = deviation(deviating)
    response = session_api(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    assert response.status_code == 403
    assert "team" in response.json()["detail"]
    assert not EthicsDeviationAcceptance.objects.exists()


def test_a_token_never_accepts(deviating, risk_officer, api_client_for):
    row = deviation(deviating)
    response = api_client_for(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    assert response.status_code == 403
    assert "token" in response.json()["detail"]
    assert not EthicsDeviationAcceptance.objects.exists()
    assert AuditEvent.objects.filter(action="ethics.deviation_accept_refused").exists()


def test_a_wrong_password_is_refused_and_audited(deviating, risk_officer, client_for):
    row = deviation(deviating)
    response = client_for(risk_officer).post(
        reverse("governance:ethics-deviation-accept", args=[row.pk]),
        accept_body(password="not-my-password"),
    )
    assert response.status_code == 400
    assert "password is not correct" in response.content.decode()
    assert not EthicsDeviationAcceptance.objects.exists()
    assert AuditEvent.objects.filter(action="signature.password_refused", actor=risk_officer)


def test_a_prohibited_harm_cannot_be_accepted(deviating, risk_officer):
    row = deviation(deviating, "psychology:manipulation")
    response = session_api(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    assert response.status_code == 400
    assert "prohibited harm" in str(response.json())
    assert not EthicsDeviationAcceptance.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"reason": "ok"}, "reason"),
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"expires_on": str(timezone.localdate() + timedelta(days=800))}, "expires_on"),
        ({"expires_on": "not a date"}, "expires_on"),
    ],
)
def test_bad_input_is_a_clear_400(deviating, risk_officer, overrides, field):
    row = deviation(deviating)
    response = session_api(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(**overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not EthicsDeviationAcceptance.objects.exists()


def test_acceptance_unblocks_until_it_expires(deviating, risk_officer, client_for, monkeypatch):
    row = deviation(deviating)
    response = client_for(risk_officer).post(
        reverse("governance:ethics-deviation-accept", args=[row.pk]), accept_body()
    )
    assert response.status_code == 302
    acceptance = EthicsDeviationAcceptance.objects.get()
    assert (acceptance.accepted_by, acceptance.deviation) == (risk_officer, row)
    assert AuditEvent.objects.filter(action="ethics.deviation_accepted").exists()
    assert codes(deviating, "prod") == ["ethics:psychology:manipulation"]
    later = timezone.localdate() + timedelta(days=91)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    assert "ethics:transparency" in codes(deviating, "prod")


def test_answering_lower_again_needs_a_new_acceptance(deviating, risk_officer, data_scientist):
    row = deviation(deviating)
    session_api(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    assert "ethics:transparency" not in codes(deviating, "prod")
    ethics_use_case_answer(
        use_case=deviating,
        answers=use_case_answers(transparency=2, psychology=[]),
        by=data_scientist,
    )
    # transparency 2 against 4 is a new deviation row: the old acceptance does not carry.
    assert codes(deviating, "prod") == ["ethics:transparency"]


def test_an_acceptance_cannot_be_rewritten(deviating, risk_officer):
    from audit.append_only import AppendOnlyError

    row = deviation(deviating)
    session_api(risk_officer).post(
        f"{API}/ethics-deviations/{row.pk}/accept/", accept_body(), format="json"
    )
    acceptance = EthicsDeviationAcceptance.objects.get()
    acceptance.expires_on = timezone.localdate() + timedelta(days=300)
    with pytest.raises(AppendOnlyError):
        acceptance.save()
    with pytest.raises(AppendOnlyError):
        EthicsDeviationAcceptance.objects.update(reason="rewritten")


def test_a_lead_cannot_waive_a_deviation_away(
    deviating, data_scientist, governance_lead, api_client_for
):
    version = ModelVersionFactory(
        model__use_case=deviating, authors=[data_scientist], environment="qa"
    )
    req = svc.request_create(version=version, by=data_scientist, justification="To preprod.")
    codes_on_request = [b.item.code for b in request_state(req).blocking]
    assert "ethics:transparency" in codes_on_request
    response = api_client_for(governance_lead).post(
        f"{API}/promotion-requests/{req.pk}/waive/",
        {"code": "ethics:transparency", "reason": "Urgent release."},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "Accountable" in str(response.json())
    assert not BlockingWaiver.objects.filter(request=req).exists()
