"""Issue 12, independent validation, walked as the people who would get round it: the
developer validates their own model, a team-mate holding the validator role validates
the team's model, a validator signs in someone else's name or with a wrong password,
a version goes to preproduction without a validation or to production with an open
validation finding (or an acceptance that expired), and a signed validation is edited.
Each route is tried through the API and the pages and shown refused, with nothing
written (and an audit event for refused signing attempts)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from governance.models import RaciRole
from governance.services import raci_assign
from reviews.models import (
    BlockingWaiver,
    Finding,
    FindingAcceptance,
    PromotionRequest,
    Signature,
    SigningFailure,
    Validation,
)
from reviews.selectors.promotion import request_state
from reviews.services import promotion as svc
from tests.factories import signed_validation, user_with_role
from tests.reviews.signoff_world import PASSWORD, satisfy, with_password

pytestmark = pytest.mark.django_db

API = "/api/v1/validations/"
GATE = "/api/v1/gate/"

RECORD = {
    "scope": "Model and hold-out evaluation.",
    "conceptual_soundness": "Sound.",
    "data": "Reviewed.",
    "outcomes_analysis": "Back-tested.",
    "limitations": "None beyond the population.",
    "conclusion": "approve",
}


@pytest.fixture
def validator(db):
    return with_password(user_with_role(Role.VALIDATOR, username="val"))


@pytest.fixture
def second_validator(db):
    return with_password(user_with_role(Role.VALIDATOR, username="val2"))


def move(version, env, *, requester, signers, checker, lead, skip=()):
    satisfy(version, env, by=requester, checker=checker, lead=lead, skip=skip)
    req = svc.request_create(version=version, by=requester, justification=f"To {env}.")
    for signer in signers:
        if req.status == "pending":
            svc.request_sign(request=req, by=signer, password=PASSWORD, meaning="approved")
            req.refresh_from_db()
    version.refresh_from_db()
    return req


@pytest.fixture
def in_qa(world, data_scientist, risk_officer, approver, governance_lead):
    use_case, version = world
    req = move(
        version,
        "qa",
        requester=data_scientist,
        signers=[risk_officer, approver],
        checker=risk_officer,
        lead=governance_lead,
    )
    assert req.status == "approved"
    return use_case, version


def gate(api, version, env):
    return api.post(GATE, {"model_version": version.pk, "environment": env}, format="json")


def session_api(client_for, user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(user)
    return api


# --- Who may validate ------------------------------------------------------------------


def test_a_data_scientist_cannot_validate_their_own_model(
    in_qa, data_scientist, api_client_for, client_for
):
    _, version = in_qa
    answer = api_client_for(data_scientist).post(
        API, {"model_version": version.pk, **RECORD}, format="json"
    )
    assert answer.status_code == 403
    assert "validator from outside the developing team" in answer.json()["detail"]
    page = client_for(data_scientist)
    shown = page.get(reverse("reviews:validations", args=[version.pk]))
    assert shown.status_code == 200 and b'id="validation-form"' not in shown.content
    posted = page.post(reverse("reviews:validations", args=[version.pk]), RECORD)
    assert posted.status_code == 403
    assert b"validator from outside the developing team" in posted.content
    assert Validation.objects.count() == 0


def test_a_team_mate_holding_the_validator_role_cannot_validate_the_teams_model(
    in_qa, team, api_client_for, client_for
):
    _, version = in_qa
    mate = with_password(user_with_role(Role.VALIDATOR, teams=[team], username="mate"))
    answer = api_client_for(mate).post(API, {"model_version": version.pk, **RECORD}, format="json")
    assert answer.status_code == 403
    assert "outside the developing team" in answer.json()["detail"]
    posted = client_for(mate).post(reverse("reviews:validations", args=[version.pk]), RECORD)
    assert posted.status_code == 403 and b"member of Credit risk" in posted.content
    assert Validation.objects.count() == 0


def test_a_validator_named_responsible_for_development_in_the_raci_is_refused(
    in_qa, governance_lead, api_client_for
):
    use_case, version = in_qa
    developer = with_password(user_with_role(Role.VALIDATOR, username="dev-val"))
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="data-scientists"),
        by=governance_lead,
        user=developer,
    )
    answer = api_client_for(developer).post(
        API, {"model_version": version.pk, **RECORD}, format="json"
    )
    assert answer.status_code == 403 and "Responsible or Accountable" in answer.json()["detail"]
    assert Validation.objects.count() == 0


def test_only_the_validators_the_second_line_named_validate(
    in_qa, validator, second_validator, risk_officer, data_scientist, api_client_for
):
    use_case, version = in_qa
    role = RaciRole.objects.get(code="validation")
    # The first line does not staff the Validation role; the second line does.
    with pytest.raises(Exception, match="Only risk officers and governance leads"):
        raci_assign(use_case=use_case, role=role, by=data_scientist, user=validator)
    raci_assign(use_case=use_case, role=role, by=risk_officer, user=validator)
    refused = api_client_for(second_validator).post(
        API, {"model_version": version.pk, **RECORD}, format="json"
    )
    assert refused.status_code == 403 and "named other people" in refused.json()["detail"]
    made = api_client_for(validator).post(
        API, {"model_version": version.pk, **RECORD}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert made.json()["signed_at"] is None


# --- Signing ---------------------------------------------------------------------------


def test_a_validator_cannot_sign_in_someone_elses_name(
    in_qa, validator, second_validator, api_client_for, client_for
):
    _, version = in_qa
    made = api_client_for(validator).post(
        API, {"model_version": version.pk, **RECORD}, format="json"
    )
    pk = made.json()["id"]
    other = session_api(client_for, second_validator)
    answer = other.post(
        f"{API}{pk}/sign/", {"password": PASSWORD, "signer": validator.username}, format="json"
    )
    assert answer.status_code == 403 and "nobody signs in another" in answer.json()["detail"]
    page = client_for(second_validator).post(
        reverse("reviews:validation-sign", args=[pk]), {"password": PASSWORD}
    )
    assert page.status_code == 403 and b'data-testid="no-form"' in page.content
    assert Signature.objects.filter(validation_id=pk).count() == 0
    assert not Validation.objects.get(pk=pk).is_signed
    refused = AuditEvent.objects.filter(action="signature.refused", actor=second_validator)
    assert refused.count() == 2
    # A token never signs, whoever holds it.
    token = api_client_for(validator).post(f"{API}{pk}/sign/", {"password": PASSWORD})
    assert token.status_code == 403 and "API token cannot sign" in token.json()["detail"]


def test_a_wrong_password_signs_nothing_and_is_counted(in_qa, validator, client_for):
    _, version = in_qa
    api = session_api(client_for, validator)
    pk = api.post(API, {"model_version": version.pk, **RECORD}, format="json").json()["id"]
    answer = api.post(f"{API}{pk}/sign/", {"password": "wrong"}, format="json")
    assert answer.status_code == 400 and "password" in answer.json()
    page = client_for(validator).post(
        reverse("reviews:validation-sign", args=[pk]), {"password": "wrong again"}
    )
    assert page.status_code == 400
    assert SigningFailure.objects.filter(user=validator).count() == 2
    assert (
        AuditEvent.objects.filter(action="signature.password_refused", actor=validator).count() == 2
    )
    assert not Validation.objects.get(pk=pk).is_signed
    signed = api.post(f"{API}{pk}/sign/", {"password": PASSWORD}, format="json")
    assert signed.status_code == 201, signed.json()
    body = signed.json()
    assert body["signature"]["meaning"] == "validated" and body["signed_at"]


# --- The gate and the request ----------------------------------------------------------


def test_preprod_without_a_validation_is_blocked_at_the_request_and_the_gate(
    in_qa, data_scientist, risk_officer, governance_lead, api_client_for, client_for
):
    _, version = in_qa
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"validation"})
    asked = api_client_for(data_scientist).post(
        "/api/v1/promotion-requests/",
        {"model_version": version.pk, "justification": "Ready."},
        format="json",
    )
    assert asked.status_code == 201
    req = PromotionRequest.objects.get(pk=asked.json()["id"])
    assert [b.item.code for b in request_state(req).unwaived] == ["validation:missing"]
    # Nobody approves it, and a governance lead cannot waive it (API and page).
    page = client_for(risk_officer).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": PASSWORD},
    )
    assert page.status_code == 403
    waived = api_client_for(governance_lead).post(
        f"/api/v1/promotion-requests/{req.pk}/waive/",
        {"code": "validation:missing", "reason": "Urgent."},
        format="json",
    )
    assert waived.status_code == 400 and "not waived" in str(waived.json())
    client_for(governance_lead).post(
        reverse("reviews:request-waive", args=[req.pk]),
        {"code": "validation:missing", "reason": "Urgent."},
    )
    assert BlockingWaiver.objects.count() == 0
    answer = gate(api_client_for(data_scientist), version, "preprod").json()
    assert answer["allowed"] is False
    assert "validation" in {r["code"] for r in answer["reasons"]}
    # Once an independent validator signs an approving validation, the item is gone.
    signed_validation(version)
    assert request_state(req).unwaived == []


def test_a_rejecting_validation_blocks_and_a_validator_cannot_approve_the_move(
    in_qa, data_scientist, risk_officer
):
    _, version = in_qa
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"validation"})
    signed_validation(version, conclusion="reject")
    req = svc.request_create(version=version, by=data_scientist, justification="Ready.")
    assert [b.item.code for b in request_state(req).unwaived] == ["validation:rejected"]


@pytest.fixture
def in_preprod_with_finding(in_qa, data_scientist, risk_officer, approver, governance_lead):
    _, version = in_qa
    validation = signed_validation(
        version, conclusion="approve_with_conditions", findings=["Recalibrate on 2026 data"]
    )
    req = move(
        version,
        "preprod",
        requester=data_scientist,
        signers=[risk_officer, approver],
        checker=risk_officer,
        lead=governance_lead,
    )
    # The condition does not hold the version back from preproduction...
    assert req.status == "approved", request_state(req).unwaived
    finding = Finding.objects.get(validation=validation)
    return version, finding


def test_prod_with_an_open_validation_finding_is_blocked(
    in_preprod_with_finding,
    data_scientist,
    risk_officer,
    governance_lead,
    api_client_for,
    client_for,
):
    version, finding = in_preprod_with_finding
    satisfy(version, "prod", by=data_scientist, checker=risk_officer, lead=governance_lead)
    req = svc.request_create(version=version, by=data_scientist, justification="Go live.")
    codes = [b.item.code for b in request_state(req).unwaived]
    assert codes == [f"validation-finding:{finding.pk}"]
    answer = gate(api_client_for(data_scientist), version, "prod").json()
    assert answer["allowed"] is False
    assert "validation-finding" in {r["code"] for r in answer["reasons"]}
    # The developer cannot accept the risk of their own model's finding.
    refused = api_client_for(data_scientist).post(
        "/api/v1/finding-acceptances/",
        {
            "finding": finding.pk,
            "reason": "Fine.",
            "expires_on": str(timezone.localdate() + dt.timedelta(days=30)),
        },
        format="json",
    )
    assert refused.status_code == 403
    assert FindingAcceptance.objects.count() == 0
    # The second line accepts it until a date, signed (password typed again, from a
    # browser session): no longer blocking.
    accepted = session_api(client_for, risk_officer).post(
        "/api/v1/finding-acceptances/",
        {
            "finding": finding.pk,
            "reason": "Recalibration planned for Q1; monitoring covers the gap.",
            "expires_on": str(timezone.localdate() + dt.timedelta(days=30)),
            "password": PASSWORD,
        },
        format="json",
    )
    assert accepted.status_code == 201, accepted.json()
    assert request_state(req).unwaived == []


def test_an_expired_acceptance_blocks_again(
    in_preprod_with_finding,
    data_scientist,
    risk_officer,
    governance_lead,
    api_client_for,
    client_for,
):
    version, finding = in_preprod_with_finding
    # Accepted last month until yesterday (written directly: the service refuses a
    # past date, as it should).
    FindingAcceptance.objects.create(
        finding=finding,
        accepted_by=risk_officer,
        printed_name=risk_officer.username,
        accepted_at=timezone.now() - dt.timedelta(days=30),
        expires_on=timezone.localdate() - dt.timedelta(days=1),
        reason="Until the recalibration.",
    )
    satisfy(version, "prod", by=data_scientist, checker=risk_officer, lead=governance_lead)
    req = svc.request_create(version=version, by=data_scientist, justification="Go live.")
    blocking = request_state(req).unwaived
    assert [b.item.code for b in blocking] == [f"validation-finding:{finding.pk}"]
    assert "expired" in blocking[0].item.message
    reasons = gate(api_client_for(data_scientist), version, "prod").json()["reasons"]
    assert any(r["code"] == "validation-finding" and "expired" in r["message"] for r in reasons)
    # A past date is refused by the service (400), nothing written.
    before = FindingAcceptance.objects.count()
    answer = session_api(client_for, risk_officer).post(
        "/api/v1/finding-acceptances/",
        {
            "finding": finding.pk,
            "reason": "Again.",
            "expires_on": "2020-01-01",
            "password": PASSWORD,
        },
        format="json",
    )
    assert answer.status_code == 400 and FindingAcceptance.objects.count() == before


# --- A signed validation is never changed ----------------------------------------------


def test_a_signed_validation_cannot_be_edited(in_qa, validator, api_client_for, client_for):
    _, version = in_qa
    validation = signed_validation(version, by=validator)
    api = api_client_for(validator)
    answer = api.patch(f"{API}{validation.pk}/", {"conclusion": "reject"}, format="json")
    assert answer.status_code == 400 and "never changed" in str(answer.json())
    page = client_for(validator).post(
        reverse("reviews:validation-detail", args=[validation.pk]),
        {**RECORD, "conclusion": "reject"},
    )
    assert page.status_code == 400 and b"never changed" in page.content
    validation.refresh_from_db()
    assert validation.conclusion == "approve"
    validation.conclusion = "reject"
    with pytest.raises(AppendOnlyError):
        validation.save()
    with pytest.raises(AppendOnlyError):
        Validation.objects.filter(pk=validation.pk).update(conclusion="reject")
    with pytest.raises(AppendOnlyError):
        Validation.objects.filter(pk=validation.pk).delete()
    assert Validation.objects.get(pk=validation.pk).conclusion == "approve"


def test_a_draft_is_changed_by_its_validator_only(
    in_qa, validator, second_validator, api_client_for
):
    _, version = in_qa
    pk = (
        api_client_for(validator)
        .post(API, {"model_version": version.pk, **RECORD}, format="json")
        .json()["id"]
    )
    refused = api_client_for(second_validator).patch(
        f"{API}{pk}/", {"limitations": "Mine now."}, format="json"
    )
    assert refused.status_code == 403
    changed = api_client_for(validator).patch(
        f"{API}{pk}/", {"limitations": "Not for small businesses."}, format="json"
    )
    assert changed.status_code == 200
    assert Validation.objects.get(pk=pk).limitations == "Not for small businesses."
