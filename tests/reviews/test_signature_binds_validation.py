"""Issue 12: a promotion signature binds the validation that gates the move (its id,
conclusion and signature hash) and the risk acceptances of open validation findings
(manifest format 3). A validation superseded, or an acceptance added or expired, after
signing voids the signature, and the request page, the gate answer and the gate log
say what changed, when and by whom. Signatures of format 2 still verify."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from core import promotion_rules as rules
from reviews.models import Finding, GateCall, Signature
from reviews.selectors.gate import gate_decision
from reviews.selectors.promotion import request_state, signature_state
from reviews.services import acceptance as acceptance_svc
from reviews.services import promotion as svc
from tests.factories import signed_validation, validator_user
from tests.reviews.signoff_world import PASSWORD, satisfy

pytestmark = pytest.mark.django_db

ACCEPTED_DAYS = 30


def move(version, env, *, requester, signers, checker, lead):
    satisfy(version, env, by=requester, checker=checker, lead=lead)
    req = svc.request_create(version=version, by=requester, justification=f"To {env}.")
    for signer in signers:
        if req.status == "pending":
            svc.request_sign(request=req, by=signer, password=PASSWORD, meaning="approved")
            req.refresh_from_db()
    version.refresh_from_db()
    assert req.status == "approved", request_state(req).unwaived
    return req


@pytest.fixture
def in_prod(world, data_scientist, risk_officer, approver, governance_lead):
    """The version validated with a condition, its finding's risk accepted by the risk
    officer (signed), and approved into production."""
    _, version = world
    people = dict(
        requester=data_scientist,
        signers=[risk_officer, approver],
        checker=risk_officer,
        lead=governance_lead,
    )
    move(version, "qa", **people)
    validation = signed_validation(
        version, conclusion="approve_with_conditions", findings=["Recalibrate on 2026 data"]
    )
    move(version, "preprod", **people)
    finding = Finding.objects.get(validation=validation)
    acceptance_svc.finding_accept(
        finding=finding,
        by=risk_officer,
        reason="Recalibration planned; monitoring covers the gap.",
        expires_on=timezone.localdate() + dt.timedelta(days=ACCEPTED_DAYS),
        password=PASSWORD,
    )
    req = move(version, "prod", **people)
    assert gate_decision(version, "prod").allowed
    return version, req, validation, finding


def mismatches(version):
    decision = gate_decision(version, "prod")
    return decision, [r for r in decision.reasons if r["code"] == "signature-mismatch"]


def test_the_signature_binds_the_validation_and_the_acceptance(in_prod):
    version, req, validation, finding = in_prod
    approval = req.signatures.filter(meaning="approved").first()
    manifest = approval.manifest
    assert manifest["format"] == 3
    assert manifest["validations"] == [
        {
            "key": f"#{validation.pk}",
            "conclusion": "approve_with_conditions",
            "signature_hash": validation.signature.manifest_hash,
            "signed_at": validation.signed_at.isoformat(),
        }
    ]
    [bound] = manifest["acceptances"]
    assert bound["key"] == f"#{finding.pk}"
    assert bound["acceptance"] == finding.acceptances.get().pk


def test_a_superseding_validation_voids_the_signature_with_who_and_when(
    in_prod, data_scientist, api_client_for, client_for, auditor
):
    version, req, _, _ = in_prod
    newer = signed_validation(version, by=validator_user("val-b"))
    decision, blocked = mismatches(version)
    assert not decision.allowed and blocked
    changes = [c for r in blocked for c in r["changes"]]
    assert {c["what"] for c in changes} == {"validation"}
    assert {c["by"] for c in changes} == {"val-b"}
    assert all(c["when"] == newer.signed_at.isoformat() for c in changes)
    assert any(f"#{newer.pk}" in c["message"] for c in changes)
    # The gate answer and its log carry it.
    answer = api_client_for(data_scientist).post(
        "/api/v1/gate/", {"model_version": version.pk, "environment": "prod"}, format="json"
    )
    reasons = answer.json()["reasons"]
    assert any(r["code"] == "signature-mismatch" and "val-b" in r["message"] for r in reasons)
    logged = GateCall.objects.order_by("-id").first()
    logged_changes = [c for r in logged.reasons for c in r.get("changes", [])]
    assert {c["by"] for c in logged_changes} == {"val-b"}
    # ...and so does the request's page.
    page = client_for(auditor).get(reverse("reviews:request-detail", args=[req.pk]))
    assert b"val-b" in page.content


def test_an_acceptance_that_expires_voids_the_signature(in_prod, risk_officer):
    version, _, _, finding = in_prod
    later = timezone.localdate() + dt.timedelta(days=ACCEPTED_DAYS + 1)
    with mock.patch("django.utils.timezone.localdate", return_value=later):
        decision, blocked = mismatches(version)
        codes = {r["code"] for r in decision.reasons}
    assert codes == {"signature-mismatch", "validation-finding"}
    changes = [c for r in blocked for c in r["changes"]]
    assert {c["what"] for c in changes} == {"acceptance"}
    change = changes[0]
    assert change["key"] == f"#{finding.pk}" and change["by"] == "system"
    assert change["when"] == later.isoformat()
    assert "expired" in change["message"] and risk_officer.username in change["message"]


def test_an_acceptance_added_after_signing_voids_it(in_prod, governance_lead):
    version, _, _, finding = in_prod
    acceptance_svc.finding_accept(
        finding=finding,
        by=governance_lead,
        reason="Extended: recalibration moved to Q2.",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
        password=PASSWORD,
    )
    decision, blocked = mismatches(version)
    changes = [c for r in blocked for c in r["changes"]]
    assert changes and {c["what"] for c in changes} == {"acceptance"}  # one per approval
    assert {(c["by"], c["event"]) for c in changes} == {(governance_lead.username, "accepted")}
    # The version is otherwise allowed: only the voided signature blocks.
    assert {r["code"] for r in decision.reasons} == {"signature-mismatch"}


def test_work_that_does_not_gate_the_move_leaves_it_allowed(in_prod):
    """A validation of another version, or a draft of this one, is not bound."""
    version, _, _, _ = in_prod
    from reviews.services.validation import validation_record

    validation_record(
        version=version,
        by=validator_user("val-draft"),
        scope="s",
        conceptual_soundness="c",
        data="d",
        outcomes_analysis="o",
        limitations="l",
        conclusion="reject",
    )
    assert gate_decision(version, "prod").allowed


def test_a_format_2_signature_still_verifies(in_prod):
    """A signature given before validations were bound (format 2) keeps counting: what
    it did not bind does not void it, and its record still hashes to its hash."""
    version, req, _, _ = in_prod
    state = request_state(req)
    old = {k: v for k, v in state.manifest.items() if k not in ("validations", "acceptances")}
    old["format"] = 2
    signature = Signature(
        request=req,
        signer=req.requested_by,
        printed_name="old",
        signed_at=timezone.now(),
        meaning="approved",
        manifest=old,
        manifest_hash=rules.manifest_hash(old),
    )
    signed_validation(version, by=validator_user("val-c"))  # would void a format 3 one
    current = request_state(req)
    checked = signature_state(signature, current.manifest, current.manifest_hash)
    assert checked.valid, checked.reasons
