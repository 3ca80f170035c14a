"""Issue 12 (items 1 and 11, "who may sign is a second-line decision"): the routes the
governed tried, as the users who tried them, through the API and the pages. Each is
refused with a reason and writes nothing."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from governance.models import RaciAssignment, RaciRole, UseCaseRaciCell
from governance.services import raci_assign, raci_matrix_set
from reviews.models import PromotionRequest, Signature, SignatureVoiding, SigningFailure
from reviews.selectors.promotion import request_state
from reviews.services import promotion as svc
from tests.factories import user_with_role
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.django_db

SELF_APPROVAL = {
    "cells": [
        {"task": "model-acceptance", "role": "data-scientists", "letters": "AR"},
        {"task": "model-acceptance", "role": "risk-audit", "letters": "C"},
    ]
}


@pytest.fixture
def team_mate(team):
    return with_password(user_with_role(Role.DATA_SCIENTIST, teams=[team], username="mate"))


def session_api(user):
    api = APIClient()
    api.force_login(user)
    return api


def sign_page(client, req, meaning="approved", password=PASSWORD, reason=""):
    return client.post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": meaning, "password": password, "reason": reason},
    )


def pending(world, data_scientist):
    use_case, version = world
    return svc.request_create(version=version, by=data_scientist, justification="To QA.")


# --- Item 1: a data scientist picked their own approvers ------------------------------


def test_first_line_cannot_make_itself_accountable_for_model_acceptance(
    world, api_client_for, client_for, data_scientist
):
    use_case, version = world
    cells_before = list(UseCaseRaciCell.objects.values_list("pk", "letters"))
    response = api_client_for(data_scientist).post(
        f"/api/v1/raci-matrices/{use_case.pk}/cells/", SELF_APPROVAL, format="json"
    )
    assert response.status_code == 403
    assert "decide who signs" in response.json()["detail"]
    page = client_for(data_scientist).post(
        reverse("governance:raci-use-case", args=[use_case.pk]),
        {"cell-model-acceptance-data-scientists": "AR", "cell-model-acceptance-risk-audit": "C"},
    )
    assert page.status_code == 403 and b"decide who signs" in page.content
    # deployments row and production column alike
    for cell in (("deployments", "data-ops", "A"), ("monitoring", "production", "R")):
        response = api_client_for(data_scientist).post(
            f"/api/v1/raci-matrices/{use_case.pk}/cells/",
            {"cells": [{"task": cell[0], "role": cell[1], "letters": cell[2]}]},
            format="json",
        )
        assert response.status_code == 403
    assert list(UseCaseRaciCell.objects.values_list("pk", "letters")) == cells_before
    # ... and keeps editing the rest of its matrix
    ok = api_client_for(data_scientist).post(
        f"/api/v1/raci-matrices/{use_case.pk}/cells/",
        {"cells": [{"task": "integration", "role": "data-ops", "letters": "R"}]},
        format="json",
    )
    assert ok.status_code == 200


def test_first_line_cannot_name_team_mates_for_risk_audit(
    world, api_client_for, client_for, data_scientist, team_mate, team
):
    use_case, version = world
    before = set(RaciAssignment.objects.values_list("pk", flat=True))
    api = api_client_for(data_scientist)
    for who in ({"user": team_mate.username}, {"team": team.slug}):
        response = api.post(
            f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
            {"role": "risk-audit", **who},
            format="json",
        )
        assert response.status_code == 403 and "decide who signs" in response.json()["detail"]
    page = client_for(data_scientist).post(
        reverse("governance:raci-assignment-add", args=[use_case.pk]),
        {"role": RaciRole.objects.get(code="production").pk, "user": team_mate.pk},
    )
    assert page.status_code == 403
    # nor remove the risk officer named there
    named = RaciAssignment.objects.get(use_case=use_case, role__code="risk-audit")
    removed = api.delete(f"/api/v1/raci-matrices/{use_case.pk}/assignments/{named.pk}/")
    assert removed.status_code == 403
    page = client_for(data_scientist).post(
        reverse("governance:raci-assignment-remove", args=[use_case.pk, named.pk])
    )
    assert page.status_code == 403
    assert set(RaciAssignment.objects.values_list("pk", flat=True)) == before


def test_even_the_second_line_names_only_role_holders_for_approval_roles(
    world, api_client_for, governance_lead, team_mate, team, auditor
):
    use_case, version = world
    api = api_client_for(governance_lead)
    for role, who in (
        ("risk-audit", {"user": team_mate.username}),
        ("risk-audit", {"user": auditor.username}),
        ("risk-audit", {"team": team.slug}),
        ("production", {"user": team_mate.username}),
    ):
        response = api.post(
            f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
            {"role": role, **who},
            format="json",
        )
        assert response.status_code == 400, (role, who)
    assert not RaciAssignment.objects.filter(user__in=[team_mate, auditor]).exists()


def test_a_team_mate_accountable_by_any_route_still_cannot_sign_and_the_gate_blocks(
    world, api_client_for, client_for, data_scientist, team_mate, governance_lead, approver
):
    """Had the matrix been changed (here by a governance lead), signing still checks
    the signer's role: the team-mate is refused and the gate does not allow."""
    use_case, version = world
    raci_matrix_set(
        use_case=use_case,
        cells={
            ("model-acceptance", "data-scientists"): "AR",
            ("model-acceptance", "risk-audit"): "C",
        },
        by=governance_lead,
    )
    raci_assign(
        use_case=use_case,
        role=RaciRole.objects.get(code="data-scientists"),
        user=team_mate,
        by=governance_lead,
    )
    req = pending(world, data_scientist)
    page = client_for(team_mate).get(reverse("reviews:request-sign", args=[req.pk]))
    assert page.status_code == 403 and b'id="sign-form"' not in page.content
    assert b"do not sign them" in page.content
    assert sign_page(client_for(team_mate), req).status_code == 403
    api = session_api(team_mate).post(
        f"/api/v1/promotion-requests/{req.pk}/sign/", {"meaning": "approved"}, format="json"
    )
    assert api.status_code == 403 and "do not sign" in api.json()["detail"]
    assert sign_page(client_for(approver), req).status_code == 403  # blocked: nobody may sign
    assert not Signature.objects.exists()
    assert "no-signer:model-acceptance" in [b.item.code for b in request_state(req).blocking]
    gate = api_client_for(data_scientist).post(
        "/api/v1/gate/", {"model_version": version.pk, "environment": "qa"}, format="json"
    )
    assert gate.json()["allowed"] is False


def test_a_signer_who_lost_the_role_is_refused_at_signing_time(
    world, client_for, data_scientist, risk_officer
):
    req = pending(world, data_scientist)
    risk_officer.groups.clear()
    risk_officer.groups.add(Group.objects.get(name=Role.APPROVER))
    page = client_for(risk_officer).get(reverse("reviews:request-sign", args=[req.pk]))
    assert page.status_code == 200 and b'value="approved"' not in page.content
    posted = sign_page(client_for(risk_officer), req)
    assert posted.status_code == 403 and b"needs the risk officer role" in posted.content
    assert not Signature.objects.exists() and not SigningFailure.objects.exists()


# --- Item 11: an auditor signed ---------------------------------------------------------


@pytest.mark.parametrize("who", ["auditor", "data_scientist", "team_mate"])
def test_who_may_not_sign_is_refused_before_any_password(request, world, client_for, who):
    user = with_password(request.getfixturevalue(who))
    req = pending(world, request.getfixturevalue("data_scientist"))
    page = client_for(user).get(reverse("reviews:request-sign", args=[req.pk]))
    assert page.status_code == 403
    assert b'id="sign-form"' not in page.content and b'type="password"' not in page.content
    assert b'data-testid="refusal"' in page.content
    for meaning in ("reviewed", "approved", "rejected"):
        posted = sign_page(client_for(user), req, meaning=meaning, reason="x")
        assert posted.status_code == 403
        api = session_api(user).post(
            f"/api/v1/promotion-requests/{req.pk}/sign/", {"meaning": meaning}, format="json"
        )
        assert api.status_code == 403 and api.json()["detail"]
    assert not Signature.objects.exists() and not SigningFailure.objects.exists()
    refused = AuditEvent.objects.filter(action="signature.refused", actor=user)
    assert refused.count() == 6


def test_the_dialog_offers_only_the_meanings_the_user_may_give(
    world, client_for, data_scientist, risk_officer, governance_lead
):
    req = pending(world, data_scientist)
    lead = client_for(governance_lead).get(reverse("reviews:request-sign", args=[req.pk]))
    assert lead.status_code == 200
    assert b'value="reviewed"' in lead.content
    assert b'value="approved"' not in lead.content and b'value="rejected"' not in lead.content
    risk = client_for(risk_officer).get(reverse("reviews:request-sign", args=[req.pk]))
    assert b'value="approved"' in risk.content and b'value="rejected"' in risk.content
    body = session_api(governance_lead).get(f"/api/v1/promotion-requests/{req.pk}/").json()
    assert body["state"]["you_may_sign"] == ["reviewed"]


def test_approve_is_not_offered_while_a_blocking_item_is_open(
    world, client_for, data_scientist, risk_officer
):
    use_case, version = world
    version.framework = ""
    version.save()
    req = pending(world, data_scientist)
    page = client_for(risk_officer).get(reverse("reviews:request-sign", args=[req.pk]))
    assert page.status_code == 200
    # Approve is shown disabled with the reason (issue 18), reject is offered
    assert re.search(rb'value="approved"[^>]* disabled', page.content)
    assert b'data-testid="why-disabled-approved">Blocking items' in page.content
    assert re.search(rb'value="rejected"(?![^>]* disabled)', page.content)
    # posted anyway, with a wrong password: refused before the password is checked
    posted = sign_page(client_for(risk_officer), req, password="guess")
    assert posted.status_code == 403 and b"Blocking items" in posted.content
    api = session_api(risk_officer).post(
        f"/api/v1/promotion-requests/{req.pk}/sign/",
        {"meaning": "approved", "password": "guess"},
        format="json",
    )
    assert api.status_code == 403 and "Blocking items" in api.json()["detail"]
    assert not Signature.objects.exists() and not SigningFailure.objects.exists()
    assert AuditEvent.objects.filter(action="signature.refused", actor=risk_officer).count() == 2


# --- Changing who signs while a request is pending voids the signatures ---------------------


def test_changing_who_staffs_risk_audit_voids_the_approval_and_says_so(
    world,
    api_client_for,
    client_for,
    data_scientist,
    risk_officer,
    second_risk_officer,
    governance_lead,
):
    use_case, version = world
    req = pending(world, data_scientist)
    signature = svc.request_sign(
        request=req, by=risk_officer, password=PASSWORD, meaning="approved"
    )
    assert request_state(req).tally.filled == {"model-acceptance": risk_officer.pk}
    response = api_client_for(governance_lead).post(
        f"/api/v1/raci-matrices/{use_case.pk}/assignments/",
        {"role": "risk-audit", "user": second_risk_officer.username},
        format="json",
    )
    assert response.status_code == 201
    voiding = SignatureVoiding.objects.get()
    assert voiding.signature == signature and voiding.by == governance_lead
    assert "risk2" in voiding.what and Signature.objects.filter(pk=signature.pk).exists()
    state = request_state(req)
    assert state.tally.filled == {} and not state.signatures[0].valid
    body = session_api(risk_officer).get(f"/api/v1/promotion-requests/{req.pk}/").json()
    assert body["state"]["voidings"][0]["by"] == governance_lead.username
    assert body["state"]["signatures"][0]["valid"] is False
    page = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert b'data-testid="voidings"' in page.content and b"risk2" in page.content
    assert AuditEvent.objects.filter(action="signature.voided").count() == 1
    # a change of an unrelated role voids nothing
    raci_matrix_set(use_case=use_case, cells={("integration", "data-ops"): "AR"}, by=data_scientist)
    assert SignatureVoiding.objects.count() == 1


def test_a_matrix_change_of_the_deployments_row_voids_its_approval(
    world, data_scientist, risk_officer, approver, governance_lead
):
    use_case, version = world
    req = pending(world, data_scientist)
    svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning="approved")
    before = PromotionRequest.objects.get().status
    raci_matrix_set(
        use_case=use_case,
        cells={("deployments", "production"): "R", ("deployments", "architect"): "A"},
        by=governance_lead,
    )
    assert before == "pending" and not SignatureVoiding.objects.exists()  # model acceptance kept
    raci_matrix_set(
        use_case=use_case,
        cells={
            ("model-acceptance", "risk-audit"): "R",
            ("model-acceptance", "business-stakeholders"): "A",
        },
        by=governance_lead,
    )
    assert SignatureVoiding.objects.get().signature.signer == risk_officer
