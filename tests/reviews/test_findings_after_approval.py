"""Issue 12, item 8: a signature binds what was known when it was given. A finding
opened after a production approval is not a change to what was signed: the gate answers
``allowed`` with a ``finding-opened-after-approval`` warning (answer, ``GateCall``, gate
log, request page and API) instead of ``signature-mismatch``. A finding that existed at
signing and changed since (resolved, open again, retitled) still voids the signature
with what changed, when and by whom; signatures given before (formats 2 and 3) verify."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core import promotion_rules as rules
from reviews.models import Finding, GateCall, Signature
from reviews.selectors.gate import gate_decision
from reviews.selectors.promotion import request_state, signature_state
from reviews.services import findings as findings_svc
from reviews.services import promotion as svc
from tests.bypass.test_gate_policy import move
from tests.factories import remediate_and_verify
from tests.reviews.signoff_world import PASSWORD

pytestmark = pytest.mark.django_db

GATE = "/api/v1/gate/"
WARNING = "finding-opened-after-approval"


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
    assert gate_decision(version, "prod").allowed
    return version, req


@pytest.fixture
def approved_with_open_finding(world, data_scientist, risk_officer, approver, governance_lead):
    """Approved into QA while a finding was open (waived by the governance lead), so the
    signatures bind it."""
    _, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA run")
    finding, _ = findings_svc.finding_open(
        version=version, by=risk_officer, title="Holdout too small"
    )
    svc.blocking_waive(
        request=req,
        by=governance_lead,
        code=f"finding:{finding.pk}",
        reason="QA only; the holdout grows before preprod.",
    )
    for signer in (risk_officer, approver):
        svc.request_sign(request=req, by=signer, password=PASSWORD, meaning="approved")
    req.refresh_from_db()
    version.refresh_from_db()
    assert req.status == "approved"
    assert gate_decision(version, "qa").allowed
    return version, req, finding


def ask(api, version, env="prod"):
    return api.post(GATE, {"model_version": version.pk, "environment": env}, format="json")


def test_a_finding_opened_after_the_prod_approval_is_a_warning_not_a_mismatch(
    in_prod, api_client_for, client_for, data_ops, risk_officer, auditor
):
    version, req = in_prod
    opened = api_client_for(risk_officer).post(
        "/api/v1/findings/",
        {"model_version": version.pk, "title": "Drift in the income feature"},
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    finding = Finding.objects.get(pk=opened.json()["id"])

    answer = ask(api_client_for(data_ops), version)
    body = answer.json()
    assert answer.status_code == 200
    assert body["allowed"] is True and body["decision"] == "allowed", body["reasons"]
    assert body["reasons"] == []
    [warning] = body["warnings"]
    assert warning["code"] == WARNING
    assert warning["finding"] == finding.pk and warning["request"] == req.pk
    assert warning["opened_by"] == risk_officer.username
    assert warning["opened_at"] == finding.opened_at.isoformat()
    assert warning["title"] == "Drift in the income feature"
    assert "severity" in warning and f"#{finding.pk}" in warning["message"]
    assert f"request #{req.pk}" in warning["message"]

    # The log row, the log's API and page carry it.
    call = GateCall.objects.get(pk=body["call"])
    assert call.allowed is True and call.warnings == body["warnings"]
    listed = api_client_for(auditor).get("/api/v1/gate-calls/").json()["results"]
    assert listed[0]["warnings"][0]["finding"] == finding.pk
    log = client_for(auditor).get(reverse("reviews:gate-log"), {"decision": "allowed"})
    assert log.status_code == 200 and WARNING.encode() in log.content

    # The request still counts every signature and names the finding.
    state = request_state(req)
    assert all(s.valid for s in state.signatures)
    assert [w["finding"] for w in state.warnings] == [finding.pk]
    page = client_for(auditor).get(reverse("reviews:request-detail", args=[req.pk]))
    assert b'data-testid="later-findings"' in page.content
    api_state = api_client_for(auditor).get(f"/api/v1/promotion-requests/{req.pk}/").json()
    assert [w["finding"] for w in api_state["state"]["warnings"]] == [finding.pk]


def test_a_system_finding_says_it_was_raised_by_the_system(in_prod):
    version, req = in_prod
    findings_svc.finding_open(
        version=version, by=None, title="Monitoring: PSI 0.31 on loan_amount", source="monitoring"
    )
    decision = gate_decision(version, "prod")
    assert decision.allowed and not decision.reasons
    [warning] = decision.warnings
    assert warning["opened_by"] == "system" and warning["source"] == "monitoring"
    assert "by the system (Monitoring)" in warning["message"]


def test_warnings_do_not_hide_a_real_change(in_prod, data_ops, api_client_for, risk_officer):
    """A finding opened after the approval and an artifact swapped: the swap is still a
    signature-mismatch; the finding is a warning beside it."""
    version, _ = in_prod
    finding, _ = findings_svc.finding_open(version=version, by=risk_officer, title="Late finding")
    type(version).objects.filter(pk=version.pk).update(artifact_sha256="e" * 64)
    body = (
        api_client_for(data_ops)
        .post(GATE, {"model_version": version.pk, "environment": "prod"}, format="json")
        .json()
    )
    assert body["allowed"] is False
    mismatch = [r for r in body["reasons"] if r["code"] == "signature-mismatch"]
    assert mismatch
    assert "artifact_sha256" in {c["what"] for r in mismatch for c in r["changes"]}
    assert "finding" not in {c["what"] for r in mismatch for c in r["changes"]}
    assert [w["finding"] for w in body["warnings"]] == [finding.pk]


# --- (b) findings that existed at signing are still bound ------------------------------------


def test_a_finding_open_at_signing_and_resolved_since_still_voids(
    approved_with_open_finding, api_client_for, data_ops, governance_lead, data_scientist
):
    version, req, finding = approved_with_open_finding
    remediate_and_verify(finding, owner_side=data_scientist, verifier=governance_lead)
    body = ask(api_client_for(data_ops), version, "qa").json()
    assert body["allowed"] is False and body["warnings"] == []
    mismatch = [r for r in body["reasons"] if r["code"] == "signature-mismatch"]
    assert len(mismatch) == 2  # both approvals bound it
    changes = [c for r in mismatch for c in r["changes"]]
    assert {(c["what"], c["key"], c["by"]) for c in changes} == {
        ("finding", f"#{finding.pk}", governance_lead.username)
    }
    assert all("no longer there" in c["message"] for c in changes)


def test_a_finding_open_at_signing_and_retitled_still_voids(approved_with_open_finding):
    version, _, finding = approved_with_open_finding
    Finding.objects.filter(pk=finding.pk).update(title="Holdout too small (and biased)")
    decision = gate_decision(version, "qa")
    assert not decision.allowed and not decision.warnings
    changes = [c for r in decision.reasons for c in r.get("changes", [])]
    assert changes and {c["what"] for c in changes} == {"finding"}
    assert all("changed" in c["message"] for c in changes)


def test_a_finding_that_existed_at_signing_and_is_open_again_still_voids(
    in_prod, risk_officer, governance_lead
):
    """A finding resolved before the approval and open again after it (as an expired
    risk acceptance will re-open one) existed when the approvers signed: its change is
    a change to what they signed, not a new finding."""
    version, req = in_prod
    first_signed = req.signatures.order_by("signed_at").first().signed_at
    old = Finding.objects.create(
        model_version=version,
        source="review",
        title="Old finding",
        opened_by=risk_officer,
        opened_at=first_signed - dt.timedelta(days=3),
        status="closed",
        resolved_by=governance_lead,
        resolved_at=first_signed - dt.timedelta(days=1),
        resolution="Fixed.",
    )
    assert gate_decision(version, "prod").allowed
    Finding.objects.filter(pk=old.pk).update(status="open")
    decision = gate_decision(version, "prod")
    assert not decision.allowed and not decision.warnings
    assert {r["code"] for r in decision.reasons} == {"signature-mismatch"}
    changes = [c for r in decision.reasons for c in r["changes"]]
    assert {(c["what"], c["key"]) for c in changes} == {("finding", f"#{old.pk}")}


# --- (c) signatures given before this change still verify ------------------------------------


def _signature(req, manifest, signed_at):
    return Signature(
        request=req,
        signer=req.requested_by,
        printed_name="Earlier signer",
        signed_at=signed_at,
        meaning="approved",
        manifest=manifest,
        manifest_hash=rules.manifest_hash(manifest),
    )


def test_format_2_and_3_signatures_still_verify_and_see_later_findings(in_prod, risk_officer):
    version, req = in_prod
    current = request_state(req)
    format_3 = req.signatures.filter(meaning="approved").first()
    assert format_3.manifest["format"] == 3
    format_2 = {
        k: v for k, v in current.manifest.items() if k not in ("validations", "acceptances")
    }
    format_2["format"] = 2
    earlier = _signature(req, format_2, timezone.now() - dt.timedelta(days=2))
    for signature in (format_3, earlier):
        checked = signature_state(signature, current.manifest, current.manifest_hash)
        assert checked.valid and not checked.later_findings, checked.reasons

    finding, _ = findings_svc.finding_open(version=version, by=risk_officer, title="After both")
    after = request_state(req)
    for signature in (format_3, earlier):
        checked = signature_state(signature, after.manifest, after.manifest_hash)
        assert checked.valid, checked.reasons
        assert [f.pk for f in checked.later_findings] == [finding.pk]


def test_a_format_2_signature_still_voids_when_a_bound_finding_goes(
    in_prod, risk_officer, governance_lead, data_scientist
):
    version, req = in_prod
    bound, _ = findings_svc.finding_open(version=version, by=risk_officer, title="Bound finding")
    current = request_state(req)
    format_2 = {
        k: v for k, v in current.manifest.items() if k not in ("validations", "acceptances")
    }
    format_2["format"] = 2
    signature = _signature(req, format_2, timezone.now())
    remediate_and_verify(bound, owner_side=data_scientist, verifier=governance_lead)
    after = request_state(req)
    checked = signature_state(signature, after.manifest, after.manifest_hash)
    assert not checked.valid
    assert [c["key"] for c in checked.changes] == [f"#{bound.pk}"]
    assert checked.changes[0]["by"] == governance_lead.username


def test_the_pure_rule_skips_only_the_findings_opened_after():
    signed = {
        "format": 3,
        "obligations": [],
        "findings": [{"key": "#1", "status": "open", "title": "a"}],
    }
    current = {
        "format": 3,
        "obligations": [],
        "findings": [
            {"key": "#1", "status": "open", "title": "a"},
            {"key": "#2", "status": "open", "title": "b"},
            {"key": "#3", "status": "open", "title": "c"},
        ],
    }
    assert [r["key"] for r in rules.findings_added(signed, current)] == ["#2", "#3"]
    changes = rules.binding_changes(signed, current, opened_after={"#2"})
    assert [(c["what"], c["key"]) for c in changes] == [("finding", "#3")]
    nothing_open = {"format": 3, "obligations": [], "findings": []}
    gone = rules.binding_changes(signed, nothing_open, opened_after={"#1"})
    assert [c["key"] for c in gone] == ["#1"]  # a bound finding is bound whatever its date
