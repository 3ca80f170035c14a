"""Issue 12, items 2, 3 and 8, walked as the people who got round them: evidence of one
version counted for the next; a Critical-tier version passed with most obligations
open; routine obligation work turned production red. Each route is tried through the
API and the pages and shown refused (nothing written) or, for item 8, no longer red."""

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.models import Obligation, ObligationEvent
from governance.selectors import obligation_list, obligations_gating_move
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from inventory.models import ModelVersion
from reviews.models import GateCall, PromotionRequest, Signature
from reviews.selectors.promotion import request_state
from reviews.services import promotion as svc
from tests.reviews.signoff_world import PASSWORD, obligation, satisfy

pytestmark = pytest.mark.django_db

GATE = "/api/v1/gate/"


def move(version, env, *, requester, signers, checker, lead):
    """Satisfy what gates the move, ask for it and have both Accountables sign."""
    satisfy(version, env, by=requester, checker=checker, lead=lead)
    req = svc.request_create(version=version, by=requester, justification=f"To {env}.")
    for signer in signers:
        if req.status == "pending":
            svc.request_sign(request=req, by=signer, password=PASSWORD, meaning="approved")
            req.refresh_from_db()
    assert req.status == "approved", request_state(req).unwaived
    version.refresh_from_db()
    return req


@pytest.fixture
def in_prod(world, data_scientist, risk_officer, approver, governance_lead):
    use_case, version = world
    req = None
    for env in ("qa", "preprod", "prod"):
        req = move(
            version,
            env,
            requester=data_scientist,
            signers=[risk_officer, approver],
            checker=risk_officer,
            lead=governance_lead,
        )
    return use_case, version, req


def gate(api, version, env="prod"):
    return api.post(GATE, {"model_version": version.pk, "environment": env}, format="json")


def register_next(api, version, label="1.1"):
    return api.post(
        "/api/v1/model-versions/",
        {
            "model": version.model_id,
            "version_label": label,
            "artifact_uri": f"s3://models/{label}/model.pkl",
            "artifact_sha256": hashlib.sha256(label.encode()).hexdigest(),
            "framework": "scikit-learn 1.6",
            "training_data_ref": version.training_data_ref,
        },
        format="json",
    )


# --- Item 2: evidence for one version counted for the next --------------------------------


def test_a_new_version_owes_its_own_evidence(
    in_prod, api_client_for, client_for, data_scientist, risk_officer, approver, governance_lead
):
    use_case, v10, _ = in_prod
    api = api_client_for(data_scientist)
    created = register_next(api, v10)
    assert created.status_code == 201, created.json()
    v11 = ModelVersion.objects.get(pk=created.json()["id"])
    # 1.1 owes its own version-scope obligations, open; 1.0's stay accepted.
    own = {o.consideration.code: o for o in obligation_list(version=v11) if o.model_version_id}
    assert own["bias-harm-testing"].status == "open"
    assert obligation(use_case, "bias-harm-testing", v10).status == "accepted"
    # QA is gated by nothing for the High tier; preprod is gated by 1.1's own evidence.
    move(v11, "qa", requester=data_scientist, signers=[risk_officer, approver],
         checker=risk_officer, lead=governance_lead)  # fmt: skip
    asked = api.post(
        "/api/v1/promotion-requests/",
        {"model_version": v11.pk, "justification": "Same as 1.0."},
        format="json",
    )
    assert asked.status_code == 201
    req = PromotionRequest.objects.get(pk=asked.json()["id"])
    codes = {b.item.code for b in request_state(req).unwaived}
    assert "obligation:bias-harm-testing" in codes
    # The risk officer's approval is refused on the page, and nothing is signed.
    before = Signature.objects.count()
    page = client_for(risk_officer).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": PASSWORD},
    )
    assert page.status_code == 403 and b"Blocking items" in page.content
    assert Signature.objects.count() == before
    # The gate refuses 1.1 in preprod and prod; 1.0 is still allowed in prod.
    pipeline = api_client_for(data_scientist)
    assert gate(pipeline, v11, "preprod").json()["allowed"] is False
    assert gate(pipeline, v11, "prod").json()["allowed"] is False
    assert gate(pipeline, v10, "prod").json()["allowed"] is True


def test_evidence_records_the_version_and_artifact_it_was_produced_for(in_prod):
    use_case, version, _ = in_prod
    bias = obligation(use_case, "bias-harm-testing", version)
    assert bias.model_version == version
    assert bias.evidence_version == version
    assert bias.evidence_artifact_sha256 == version.artifact_sha256


def test_the_api_refuses_evidence_that_covers_an_item_the_measure_does_not_ask(
    world, api_client_for, data_scientist
):
    use_case, version = world
    bias = obligation(use_case, "bias-harm-testing", version)
    r = api_client_for(data_scientist).post(
        f"/api/v1/obligations/{bias.pk}/evidence/",
        {"link": "https://evidence.example.org/b", "covers": ["red_team_testing"]},
        format="json",
    )
    assert r.status_code == 400 and "covers" in r.json()
    bias.refresh_from_db()
    assert bias.status == "open" and not bias.evidence_link


def test_evidence_that_leaves_out_an_item_cannot_be_accepted(
    world, api_client_for, data_scientist, risk_officer
):
    use_case, version = world
    bias = obligation(use_case, "bias-harm-testing", version)
    api_client_for(data_scientist).post(
        f"/api/v1/obligations/{bias.pk}/evidence/",
        {"link": "https://evidence.example.org/b", "covers": []},
        format="json",
    )
    r = api_client_for(risk_officer).post(f"/api/v1/obligations/{bias.pk}/accept/")
    assert r.status_code == 400 and "automated bias checks" in str(r.json())
    bias.refresh_from_db()
    assert bias.status == "evidence_submitted"


# --- Item 3: only 2 of the 9 considerations could block ----------------------------------


@pytest.fixture
def critical_in_preprod(world, data_scientist, risk_officer):
    use_case, version = world
    use_case.risk_tier = RiskTier.CRITICAL
    use_case.save(update_fields=["risk_tier"])
    obligations_recompute(use_case=use_case)
    from inventory.services import model_version_move

    model_version_move(version=version, to_environment="preprod")
    version.refresh_from_db()
    # What used to be enough: the bias check and the preproduction verification.
    for code in ("bias-harm-testing", "preproduction-verification"):
        satisfy(
            version,
            "prod",
            by=data_scientist,
            checker=risk_officer,
            skip=set(
                o["code"] for o in obligations_gating_move(version=version, environment="prod")
            )
            - {code},
        )
    return use_case, version


def test_a_critical_version_is_blocked_by_every_open_obligation(
    critical_in_preprod, api_client_for, client_for, data_scientist, risk_officer
):
    use_case, version = critical_in_preprod
    asked = api_client_for(data_scientist).post(
        "/api/v1/promotion-requests/",
        {"model_version": version.pk, "justification": "Go live."},
        format="json",
    )
    assert asked.status_code == 201
    req = PromotionRequest.objects.get(pk=asked.json()["id"])
    codes = {b.item.code for b in request_state(req).unwaived}
    assert codes == {
        "obligation:reproducibility",
        "obligation:audit-documentation",
        "obligation:transparency",
        "obligation:deployment-mode",
        "obligation:production-monitoring",
        "obligation:data-quality-compliance",
    }
    page = client_for(risk_officer).post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": PASSWORD},
    )
    assert page.status_code == 403
    assert not Signature.objects.filter(request=req).exists()
    detail = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert b"deployment mode obligation" in detail.content
    assert gate(api_client_for(data_scientist), version).json()["allowed"] is False


def test_monitoring_is_owed_as_a_configuration_not_a_document(
    critical_in_preprod, data_scientist, risk_officer
):
    use_case, version = critical_in_preprod
    satisfy(
        version, "prod", by=data_scientist, checker=risk_officer, skip={"production-monitoring"}
    )
    monitoring = obligation(use_case, "production-monitoring", version)
    # Even accepted documents do not replace a monitoring configuration.
    from governance.services import obligation_accept, obligation_submit_evidence

    obligation_submit_evidence(
        obligation=monitoring, by=data_scientist, link="https://grafana.example.org/d/1"
    )
    obligation_accept(
        obligation=obligation(use_case, "production-monitoring", version), by=risk_officer
    )
    [item] = [
        o for o in obligations_gating_move(version=version, environment="prod") if o["problem"]
    ]
    assert item["code"] == "production-monitoring"
    assert "no monitoring configuration" in item["problem"]


def test_the_signoff_obligation_is_met_by_the_signatures(in_prod):
    use_case, version, req = in_prod
    signoff = obligation(use_case, "human-signoff", version)
    assert signoff.status == "accepted"
    event = signoff.events.get(kind=ObligationEvent.Kind.ACCEPTED)
    assert event.by is None and event.detail["request"] is not None


# --- Item 8: routine obligation work turned production red --------------------------------


def test_waiving_another_versions_obligation_keeps_production_allowed(
    in_prod, api_client_for, data_scientist, governance_lead
):
    use_case, v10, _ = in_prod
    v11 = ModelVersion.objects.get(
        pk=register_next(api_client_for(data_scientist), v10).json()["id"]
    )
    bias11 = obligation(use_case, "bias-harm-testing", v11)
    r = api_client_for(governance_lead).post(
        f"/api/v1/obligations/{bias11.pk}/waive/",
        {"justification": "1.1 is a shadow candidate only."},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "waived"
    answer = gate(api_client_for(data_scientist), v10).json()
    assert answer["allowed"] is True, answer["reasons"]


def test_a_change_to_what_gates_the_move_voids_with_who_and_when(
    in_prod, api_client_for, client_for, data_scientist, risk_officer, auditor
):
    use_case, version, req = in_prod
    # A reclassification raises the tier: the bias measure becomes strict, so its
    # obligation is replaced by an open one, after the prod approval.
    use_case.risk_tier = RiskTier.CRITICAL
    use_case.save(update_fields=["risk_tier"])
    obligations_recompute(use_case=use_case, by=risk_officer, reason="Reclassified Critical.")
    answer = gate(api_client_for(data_scientist), version).json()
    assert answer["allowed"] is False
    mismatch = [r for r in answer["reasons"] if r["code"] == "signature-mismatch"]
    assert mismatch
    changes = {c["key"]: c for c in mismatch[0]["changes"]}
    assert changes["bias-harm-testing"]["by"] == risk_officer.username
    assert changes["bias-harm-testing"]["when"]
    assert "bias-harm-testing" in mismatch[0]["message"]
    call = GateCall.objects.latest("id")
    assert any(r.get("changes") for r in call.reasons)
    log = client_for(auditor).get(reverse("reviews:gate-log"))
    assert log.status_code == 200 and b"bias-harm-testing" in log.content
    assert (
        Obligation.objects.filter(
            model_version=version, consideration__code="bias-harm-testing", active=True
        )
        .get()
        .status
        == "open"
    )


# --- Carry-over: only what the policy allows, only after the second line confirms ------------


def test_evidence_carries_over_only_when_confirmed_and_allowed(
    in_prod, api_client_for, data_scientist, approver, risk_officer
):
    use_case, v10, _ = in_prod
    ds = api_client_for(data_scientist)
    v11 = ModelVersion.objects.get(pk=register_next(ds, v10).json()["id"])
    url = "/api/v1/change-declarations/"
    material = ds.post(
        url,
        {
            "model_version": v11.pk,
            "previous": v10.pk,
            "same_training_data": True,
            "same_features": False,
            "note": "Added a feature.",
        },
        format="json",
    )
    assert material.status_code == 400 and "material" in str(material.json())
    declared = ds.post(
        url,
        {
            "model_version": v11.pk,
            "previous": v10.pk,
            "same_training_data": True,
            "same_features": True,
            "note": "Re-packaged with a newer runtime; same data and features.",
        },
        format="json",
    )
    assert declared.status_code == 201
    confirm = f"{url}{declared.json()['id']}/confirm/"
    for who in (data_scientist, approver, risk_officer):  # a token never signs
        refused = api_client_for(who).post(confirm, {"password": PASSWORD}, format="json")
        assert refused.status_code == 403
    dq = obligation(use_case, "data-quality-compliance", v11)
    assert dq.status == "open"
    session = APIClient()
    session.force_login(risk_officer)
    ok = session.post(confirm, {"password": PASSWORD, "note": "Checked the build."}, format="json")
    assert ok.status_code == 200 and ok.json()["confirmed_by"] == risk_officer.username
    dq = obligation(use_case, "data-quality-compliance", v11)
    assert dq.status == "accepted" and dq.parameters["carry_over"] is True
    assert dq.evidence_version == v10 and dq.evidence_artifact_sha256 == v10.artifact_sha256
    # Evidence about the model itself (the policy says no carry-over) stays owed.
    assert obligation(use_case, "bias-harm-testing", v11).status == "open"
    assert obligation(use_case, "reproducibility", v11).status == "open"


def test_a_lead_cannot_waive_the_signoff_obligation_to_skip_every_signature(
    world, governance_lead, api_client_for, data_scientist
):
    """Waiving the human sign-off obligation would make every move need 0 sign-offs
    (auto-approved): one lead's act replacing everybody's signatures. Refused (API)."""
    use_case, version = world
    obligations_recompute(use_case=use_case)
    signoff = Obligation.objects.get(
        model_version=version, consideration__code="human-signoff", active=True
    )
    response = api_client_for(governance_lead).post(
        f"/api/v1/obligations/{signoff.pk}/waive/",
        {"justification": "Urgent release."},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "never waived" in str(response.json())
    signoff.refresh_from_db()
    assert signoff.status == "open"
    req = svc.request_create(version=version, by=data_scientist, justification="To QA.")
    assert req.required_signoffs > 0 and req.status == "pending"
