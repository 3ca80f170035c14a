"""The deployment gate through the API: allowed only with a live approval, fails
closed otherwise, reflects revocation and overdue periodic reviews, logs every call."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.services import obligation_submit_evidence
from reviews.models import GateCall, PromotionRequest
from reviews.services import findings as findings_svc
from reviews.services import promotion as svc
from tests.reviews.signoff_world import PASSWORD, obligation

pytestmark = pytest.mark.django_db

GATE = "/api/v1/gate/"


@pytest.fixture
def approved(world, data_scientist, risk_officer, approver):
    """The version approved into QA by both Accountables."""
    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA run")
    svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning="approved")
    svc.request_sign(request=req, by=approver, password=PASSWORD, meaning="approved")
    req.refresh_from_db()
    assert req.status == "approved"
    version.refresh_from_db()
    return use_case, version, req


def ask_gate(api, **payload):
    return api.post(GATE, payload, format="json")


def codes(response):
    return [r["code"] for r in response.json()["reasons"]]


def test_allowed_after_approval(approved, api_client_for, data_ops):
    use_case, version, req = approved
    pipeline = api_client_for(data_ops)
    by_id = ask_gate(pipeline, model_version=version.pk, environment="qa")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body["allowed"] is True and body["decision"] == "allowed" and body["request"] == req.pk
    by_sha = ask_gate(pipeline, artifact_sha256=version.artifact_sha256.upper(), environment="qa")
    assert by_sha.json()["allowed"] is True
    # Not approved further than QA.
    prod = ask_gate(pipeline, model_version=version.pk, environment="prod")
    assert prod.json()["allowed"] is False
    assert set(codes(prod)) >= {"not-approved-for-environment", "no-approval"}
    assert GateCall.objects.count() == 3
    assert GateCall.objects.filter(allowed=True).count() == 2


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"model_version": 999999, "environment": "qa"}, "unknown-version"),
        ({"artifact_sha256": "f" * 64, "environment": "qa"}, "unknown-version"),
        ({"model_version": "VERSION", "environment": "qa"}, None),
        ({"environment": "qa"}, None),
    ],
)
def test_fails_closed_on_unknown_or_bad_input(world, api_client_for, data_ops, payload, code):
    response = ask_gate(api_client_for(data_ops), **payload)
    assert response.json()["allowed"] is False
    if code:
        assert response.status_code == 200 and codes(response) == [code]
    else:
        assert response.status_code == 400
    call = GateCall.objects.get()
    assert call.allowed is False and call.caller == data_ops


def test_artifact_mismatch_and_unknown_environment(approved, api_client_for, data_ops):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    r = ask_gate(api, model_version=version.pk, artifact_sha256="0" * 64, environment="qa")
    assert codes(r) == ["artifact-mismatch"]
    r = ask_gate(api, model_version=version.pk, environment="staging")
    assert codes(r) == ["unknown-environment"]


def test_missing_inventory_fields_block(approved, api_client_for, data_ops):
    use_case, version, req = approved
    version.training_data_ref = ""
    version.save()
    r = ask_gate(api_client_for(data_ops), model_version=version.pk, environment="qa")
    assert r.json()["allowed"] is False and "missing-inventory-field" in codes(r)


def test_revocation_blocks_the_next_call(
    approved, api_client_for, client_for, data_ops, governance_lead
):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    assert ask_gate(api, model_version=version.pk, environment="qa").json()["allowed"] is True
    client_for(governance_lead).post(
        reverse("reviews:request-revoke", args=[req.pk]),
        {"reason": "Training data included test rows.", "password": PASSWORD},
    )
    r = ask_gate(api, model_version=version.pk, environment="qa")
    assert r.json()["allowed"] is False
    assert "approval-revoked" in codes(r)
    assert "Training data included test rows." in str(r.json()["reasons"])


def test_work_on_an_obligation_that_does_not_gate_the_move_keeps_it_allowed(
    approved, api_client_for, data_ops, data_scientist
):
    """Issue 12: the QA move of a High-tier version is gated by no obligation, so new
    evidence on reproducibility (which gates preprod and prod) does not void it."""
    use_case, version, req = approved
    ob = obligation(use_case, "reproducibility")
    obligation_submit_evidence(
        obligation=ob, by=data_scientist, link="https://evidence.example.org/x"
    )
    r = ask_gate(api_client_for(data_ops), model_version=version.pk, environment="qa")
    assert r.json()["allowed"] is True, r.json()


def test_a_finding_opened_after_approval_is_a_warning(
    approved, api_client_for, data_ops, risk_officer
):
    """Issue 12, item 8: it did not exist when the approvers signed, so it does not
    void their signatures; the answer names it (tests/reviews/test_findings_after_approval)."""
    use_case, version, req = approved
    finding, _ = findings_svc.finding_open(
        version=version, by=risk_officer, title="Drift in income"
    )
    r = ask_gate(api_client_for(data_ops), model_version=version.pk, environment="qa")
    assert r.json()["allowed"] is True and codes(r) == []
    assert [w["finding"] for w in r.json()["warnings"]] == [finding.pk]


def test_gate_needs_a_role_and_authentication(world, client, no_role_user, api_client_for):
    assert client.post(GATE, {"environment": "qa"}).status_code in (401, 403)
    assert ask_gate(api_client_for(no_role_user), environment="qa").status_code == 403


def test_gate_log_page_and_api(approved, api_client_for, client_for, data_ops, auditor):
    use_case, version, req = approved
    ask_gate(api_client_for(data_ops), model_version=version.pk, environment="prod")
    page = client_for(auditor).get(reverse("reviews:gate-log"), {"decision": "blocked"})
    assert page.status_code == 200 and b"not-approved-for-environment" in page.content
    listing = api_client_for(auditor).get("/api/v1/gate-calls/")
    assert listing.status_code == 200 and listing.json()["count"] == 1


# --- Periodic review ----------------------------------------------------------------------


def in_production(version, req, days_ago):
    """Put the version in production, approved ``days_ago`` days ago."""
    from inventory.services import model_version_move

    model_version_move(version=version, to_environment="prod")
    PromotionRequest.objects.filter(pk=req.pk).update(
        to_environment="prod", decided_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    version.refresh_from_db()


def test_overdue_periodic_review_blocks_past_grace(approved, api_client_for, data_ops, settings):
    use_case, version, req = approved
    settings.PERIODIC_REVIEW_GRACE_DAYS = 30
    # High tier: strict audit obligation, review every 182 days.
    in_production(version, req, days_ago=182 + 10)
    api = api_client_for(data_ops)
    r = ask_gate(api, model_version=version.pk, environment="prod")
    assert "periodic-review-overdue" not in codes(r)  # overdue, within grace
    PromotionRequest.objects.filter(pk=req.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=182 + 31)
    )
    r = ask_gate(api, model_version=version.pk, environment="prod")
    assert "periodic-review-overdue" in codes(r)


def test_signing_a_periodic_review_restarts_the_clock(
    approved, api_client_for, client_for, data_ops, risk_officer, data_scientist
):
    use_case, version, req = approved
    in_production(version, req, days_ago=400)
    url = reverse("reviews:periodic-review-sign", args=[version.pk])
    form = {"outcome": "satisfactory", "note": "Back-test stable.", "password": PASSWORD}
    assert client_for(data_scientist).post(url, form).status_code == 403  # an author
    assert client_for(risk_officer).post(url, {**form, "password": "x"}).status_code == 400
    assert client_for(risk_officer).post(url, form).status_code == 302
    r = ask_gate(api_client_for(data_ops), model_version=version.pk, environment="prod")
    assert "periodic-review-overdue" not in codes(r)
    review = version.periodic_reviews.get()
    assert review.signature.meaning == "periodic_review" and review.interval_days == 182
