"""Sign-off workflow through the pages and the API: the promotion path, sign-offs from
the obligations and the RACI, blocking items and waivers, segregation of duties,
re-authentication, hash binding and its invalidation, revocation."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.append_only import AppendOnlyError
from core import promotion_rules as rules
from governance.services import obligation_accept, obligation_submit_evidence
from notifications.services import notifications_about
from reviews.models import BlockingWaiver, PromotionRequest, Signature, SigningFailure
from reviews.selectors.promotion import request_state
from reviews.services import findings as findings_svc
from reviews.services import promotion as svc
from tests.factories import user_with_role
from tests.reviews.signoff_world import PASSWORD, obligation, satisfy

pytestmark = pytest.mark.django_db


def ask(client, version, kind="promote", justification="Validated on the 2026 holdout."):
    return client.post(
        reverse("reviews:request-create", args=[version.pk]),
        {"kind": kind, "justification": justification},
    )


def sign(client, req, meaning="approved", password=PASSWORD, reason=""):
    return client.post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": meaning, "password": password, "reason": reason},
    )


def accept(use_case, code, by, checker):
    ob = obligation(use_case, code)
    obligation_submit_evidence(obligation=ob, by=by, link=f"https://evidence.example.org/{code}")
    obligation_accept(obligation=obligation(use_case, code), by=checker)


# --- Pure rules -------------------------------------------------------------------------


def test_path_is_one_step_at_a_time():
    assert rules.target_for("promote", "dev") == "qa"
    assert rules.target_for("promote", "preprod") == "prod"
    assert rules.target_for("rollback", "prod") == "preprod"
    assert rules.target_for("retire", "qa") == "retired"
    with pytest.raises(rules.MoveError, match="never skipped"):
        rules.check_target("promote", "dev", "prod")
    with pytest.raises(rules.MoveError, match="already in production"):
        rules.target_for("promote", "prod")
    with pytest.raises(rules.MoveError, match="nothing to roll back"):
        rules.target_for("rollback", "dev")
    with pytest.raises(rules.MoveError, match="retired"):
        rules.target_for("promote", "retired")


def test_signoffs_follow_the_human_signoff_parameters():
    strict = {"signoffs_per_move": 2, "environments": ["qa", "preprod", "prod"]}
    medium = {"signoffs_per_move": 1, "environments": ["prod"]}
    assert rules.signoffs_required("promote", "dev", "qa", strict) == 2
    assert rules.signoffs_required("promote", "dev", "qa", medium) == 0
    assert rules.signoffs_required("promote", "preprod", "prod", medium) == 1
    assert rules.signoffs_required("rollback", "prod", "preprod", strict) == 1
    assert rules.signoffs_required("promote", "dev", "qa", None) == 0
    assert rules.slots_for("promote", 2) == ["model-acceptance", "deployments"]
    assert rules.slots_for("rollback", 1) == ["deployments"]


def test_tally_needs_distinct_people_in_distinct_slots():
    slots = ["model-acceptance", "deployments"]
    t = rules.tally(
        required=2,
        slots=slots,
        approvals=[(1, "model-acceptance"), (1, "deployments")],
        rejection=None,
    )
    assert not t.complete and t.open_slots == ["deployments"]
    t = rules.tally(
        required=2,
        slots=slots,
        approvals=[(1, "model-acceptance"), (2, "deployments")],
        rejection=None,
    )
    assert t.complete


# --- Requests --------------------------------------------------------------------------


def test_request_takes_signoffs_from_obligations_and_raci(
    world, client_for, data_scientist, risk_officer, approver
):
    use_case, version = world
    response = ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    assert response.status_code == 302
    assert (req.from_environment, req.to_environment) == ("dev", "qa")
    assert req.required_signoffs == 2  # High tier: strict human sign-off
    state = request_state(req)
    assert [u.pk for u in state.eligible["model-acceptance"]] == [risk_officer.pk]
    assert [u.pk for u in state.eligible["deployments"]] == [approver.pk]
    page = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert page.status_code == 200
    assert b"Sign-offs: 0 of 2" in page.content
    assert b"promotion.requested" in page.content  # its history, from the audit trail
    mine = client_for(risk_officer).get(reverse("reviews:pending"))
    assert f"#{req.pk}".encode() in mine.content and b"Review and sign" in mine.content


def test_only_one_pending_request_and_no_skipping(world, data_scientist, api_client_for):
    use_case, version = world
    api = api_client_for(data_scientist)
    skip = api.post(
        "/api/v1/promotion-requests/",
        {"model_version": version.pk, "to_environment": "prod", "justification": "fast"},
        format="json",
    )
    assert skip.status_code == 400 and "never skipped" in str(skip.json())
    assert not PromotionRequest.objects.exists()
    ok = api.post(
        "/api/v1/promotion-requests/",
        {"model_version": version.pk, "justification": "Ready for QA."},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["to_environment"] == "qa"
    again = api.post(
        "/api/v1/promotion-requests/",
        {"model_version": version.pk, "justification": "Again."},
        format="json",
    )
    assert again.status_code == 400 and "pending request" in str(again.json())
    assert PromotionRequest.objects.count() == 1


def test_requesting_needs_the_team_or_is_refused(world, client_for, approver, other_data_scientist):
    use_case, version = world
    assert ask(client_for(other_data_scientist), version).status_code == 403
    assert ask(client_for(approver), version).status_code == 403
    assert not PromotionRequest.objects.exists()


def test_two_distinct_accountables_approve_and_the_version_moves(
    world, client_for, data_scientist, risk_officer, approver, mailoutbox
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    assert sign(client_for(risk_officer), req).status_code == 302
    req.refresh_from_db()
    assert req.status == "pending"
    assert sign(client_for(approver), req).status_code == 302
    req.refresh_from_db()
    version.refresh_from_db()
    assert req.status == "approved" and version.environment == "qa"
    sigs = list(Signature.objects.filter(request=req))
    assert {s.slot for s in sigs} == {"model-acceptance", "deployments"}
    assert all(
        len(s.manifest_hash) == 64 and s.manifest["artifact_sha256"] == version.artifact_sha256
        for s in sigs
    )
    assert sigs[0].printed_name.endswith(f"({risk_officer.username})")


# --- Segregation of duties ---------------------------------------------------------------


def test_requester_authors_and_validator_cannot_approve(
    world, client_for, data_scientist, risk_officer, second_risk_officer, governance_lead
):
    use_case, version = world
    # The validator is the risk officer who is also model-acceptance Accountable.
    version.validator = risk_officer
    version.save()
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    refused = sign(client_for(risk_officer), req)
    assert refused.status_code == 403
    assert b"validator of this version" in refused.content
    author = sign(client_for(data_scientist), req)
    assert author.status_code == 403
    # the first line does not sign at all (issue 12), requester or not
    assert b"do not sign them" in author.content
    assert not Signature.objects.exists()
    # With the validator excluded, nobody is left for model acceptance: a blocking item.
    codes = [b.item.code for b in request_state(req).blocking]
    assert "no-signer:model-acceptance" in codes


def test_nobody_signs_twice(world, client_for, data_scientist, risk_officer):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    assert sign(client_for(risk_officer), req).status_code == 302
    second = sign(client_for(risk_officer), req, meaning="reviewed")
    assert second.status_code == 403 and b"already signed" in second.content
    assert Signature.objects.count() == 1


def test_someone_not_accountable_cannot_approve(
    world, client_for, data_scientist, second_risk_officer
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    response = sign(client_for(second_risk_officer), req)
    assert response.status_code == 403 and b"Accountable" in response.content
    # ... but may sign as reviewed, which decides nothing.
    assert sign(client_for(second_risk_officer), req, meaning="reviewed").status_code == 302
    req.refresh_from_db()
    assert req.status == "pending"


# --- Re-authentication -------------------------------------------------------------------


def test_wrong_password_signs_nothing_and_is_recorded(
    world, client_for, data_scientist, risk_officer
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    response = sign(client_for(risk_officer), req, password="guess")
    assert response.status_code == 400 and b"password is not correct" in response.content
    assert not Signature.objects.exists()
    assert SigningFailure.objects.filter(user=risk_officer).count() == 1


def test_too_many_wrong_passwords_lock_signing(
    world, client_for, data_scientist, risk_officer, settings
):
    settings.SIGNING_MAX_FAILURES = 3
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    c = client_for(risk_officer)
    for _ in range(3):
        sign(c, req, password="guess")
    locked = sign(c, req)  # even the right password
    assert locked.status_code == 403 and b"locked" in locked.content
    assert not Signature.objects.exists()


def test_a_session_without_the_password_cannot_sign(
    world, client_for, data_scientist, risk_officer
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    response = client_for(risk_officer).post(
        reverse("reviews:request-sign", args=[req.pk]), {"meaning": "approved"}
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_an_api_token_can_never_sign(world, api_client_for, data_scientist, risk_officer):
    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    response = api_client_for(risk_officer).post(
        f"/api/v1/promotion-requests/{req.pk}/sign/",
        {"meaning": "approved", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    assert "token cannot sign" in response.json()["detail"]
    assert not Signature.objects.exists()


def test_api_signing_from_a_session_needs_the_password(world, data_scientist, risk_officer):
    from rest_framework.test import APIClient

    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    api = APIClient(enforce_csrf_checks=False)
    api.force_login(risk_officer)
    url = f"/api/v1/promotion-requests/{req.pk}/sign/"
    assert api.post(url, {"meaning": "approved"}, format="json").status_code == 400
    ok = api.post(url, {"meaning": "approved", "password": PASSWORD}, format="json")
    assert ok.status_code == 201 and ok.json()["slot"] == "model-acceptance"


def test_get_never_signs(world, client_for, data_scientist, risk_officer):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    page = client_for(risk_officer).get(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": PASSWORD},
    )
    assert page.status_code == 200 and b"What you sign" in page.content
    assert not Signature.objects.exists()


def test_reject_needs_a_reason_and_tells_the_requester(
    world, client_for, data_scientist, approver, mailoutbox, django_capture_on_commit_callbacks
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    assert sign(client_for(approver), req, meaning="rejected").status_code == 400
    assert not Signature.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            sign(
                client_for(approver), req, meaning="rejected", reason="No rollback plan."
            ).status_code
            == 302
        )
    req.refresh_from_db()
    assert req.status == "rejected"
    assert notifications_about(req).filter(kind="decision", recipient=data_scientist).count() == 1


# --- Blocking items ------------------------------------------------------------------------


def promote_to(version, env):
    from inventory.services import model_version_move

    model_version_move(version=version, to_environment=env)
    version.refresh_from_db()


def test_missing_bias_check_blocks_until_waived(
    world, client_for, data_scientist, risk_officer, approver, governance_lead
):
    use_case, version = world
    promote_to(version, "qa")
    # qa -> preprod: the High tier's policy gates it on four obligations (issue 12).
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"bias-harm-testing"})
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    state = request_state(req)
    assert [b.item.code for b in state.unwaived] == ["obligation:bias-harm-testing"]
    refused = sign(client_for(risk_officer), req)
    assert refused.status_code == 403 and b"Blocking items" in refused.content
    # Only a governance lead waives, with a reason.
    url = reverse("reviews:request-waive", args=[req.pk])
    client_for(risk_officer).post(url, {"code": "obligation:bias-harm-testing", "reason": "x"})
    assert not BlockingWaiver.objects.exists()
    client_for(governance_lead).post(url, {"code": "obligation:bias-harm-testing", "reason": ""})
    assert not BlockingWaiver.objects.exists()
    client_for(governance_lead).post(
        url, {"code": "obligation:bias-harm-testing", "reason": "Summary attached offline."}
    )
    assert BlockingWaiver.objects.count() == 1
    assert sign(client_for(risk_officer), req).status_code == 302
    assert sign(client_for(approver), req).status_code == 302
    req.refresh_from_db()
    assert req.status == "approved"


def test_accepted_obligation_and_open_finding(
    world, client_for, data_scientist, risk_officer, approver, governance_lead
):
    use_case, version = world
    promote_to(version, "qa")
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer)
    finding, _ = findings_svc.finding_open(
        version=version, by=risk_officer, title="Calibration drifts above 0.7"
    )
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    assert [b.item.code for b in request_state(req).unwaived] == [f"finding:{finding.pk}"]
    # The owner's side marks it remediated; the second line verifies it on the page.
    client_for(data_scientist).post(
        reverse("reviews:finding-remediate", args=[finding.pk]), {"note": "Recalibrated."}
    )
    assert [b.item.code for b in request_state(req).unwaived] == [f"finding:{finding.pk}"]
    client_for(risk_officer).post(
        reverse("reviews:finding-verify", args=[finding.pk]),
        {"note": "Calibration re-run.", "outcome": "verified"},
    )
    assert request_state(req).unwaived == []


def test_incomplete_raci_blocks(world, client_for, data_scientist):
    from governance.models import RaciAssignment
    from governance.services import raci_unassign

    use_case, version = world
    a = RaciAssignment.objects.get(use_case=use_case, role__code="production")
    raci_unassign(assignment=a, by=user_with_role("governance-lead", username="lead2"))
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    codes = {b.item.code for b in request_state(req).unwaived}
    assert "raci" in codes and "no-signer:deployments" in codes


# --- Hash binding -----------------------------------------------------------------------


def test_signature_stops_counting_when_what_was_signed_changes(
    world, client_for, data_scientist, risk_officer, approver, governance_lead
):
    use_case, version = world
    promote_to(version, "qa")
    satisfy(version, "preprod", by=data_scientist, checker=risk_officer, skip={"reproducibility"})
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get(status="pending")
    svc.blocking_waive(
        request=req, by=governance_lead, code="obligation:reproducibility", reason="Offline."
    )
    sign(client_for(risk_officer), req)
    # New evidence, after the signature, on an obligation that gates this move.
    ob = obligation(use_case, "reproducibility")
    obligation_submit_evidence(
        obligation=ob, by=data_scientist, link="https://evidence.example.org/r"
    )
    state = request_state(req)
    [s] = state.signatures
    assert not s.valid
    assert any("reproducibility" in r for r in s.reasons)
    assert state.tally.filled == {}
    page = client_for(risk_officer).get(reverse("reviews:request-detail", args=[req.pk]))
    assert b"No longer counts" in page.content and b"reproducibility" in page.content
    # The second approval does not complete the request: the first no longer counts.
    sign(client_for(approver), req)
    req.refresh_from_db()
    assert req.status == "pending"


def test_a_tampered_manifest_is_detected(world, client_for, data_scientist, risk_officer):
    from django.db import connection

    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    sign(client_for(risk_officer), req)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses the UPDATE itself (see test_signatures_are_append_only)")
    from tests.db_guard_plugin import tamper_with

    # Someone who can write the SQLite file lifts the guards first.
    tamper_with(
        "reviews_signature", 'UPDATE reviews_signature SET manifest = \'{"artifact_sha256": "x"}\''
    )
    [s] = request_state(req).signatures
    assert not s.valid and "does not match its own hash" in s.reasons[0]


def test_signatures_are_append_only(world, data_scientist, risk_officer):
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    signature = svc.request_sign(
        request=req, by=risk_officer, password=PASSWORD, meaning="approved"
    )
    signature.reason = "edited"
    with pytest.raises(AppendOnlyError):
        signature.save()
    with pytest.raises(AppendOnlyError):
        signature.delete()
    with pytest.raises(AppendOnlyError):
        Signature.objects.filter(pk=signature.pk).update(reason="edited")
    if connection.vendor == "postgresql":
        for sql in (
            "UPDATE reviews_signature SET reason = 'edited'",
            "DELETE FROM reviews_signature",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only|permission denied"),
                transaction.atomic(),
                connection.cursor() as cur,
            ):
                cur.execute(sql)
    assert Signature.objects.get().reason == ""


def test_revocation_is_signed_with_a_reason_by_a_governance_lead(
    world, client_for, data_scientist, risk_officer, approver, governance_lead
):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    sign(client_for(risk_officer), req)
    sign(client_for(approver), req)
    url = reverse("reviews:request-revoke", args=[req.pk])
    assert (
        client_for(risk_officer).post(url, {"reason": "x", "password": PASSWORD}).status_code == 403
    )
    assert (
        client_for(governance_lead).post(url, {"reason": "", "password": PASSWORD}).status_code
        == 400
    )
    response = client_for(governance_lead).post(
        url, {"reason": "Data leak found in training data.", "password": PASSWORD}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == "revoked"
    assert Signature.objects.get(meaning="revoked").reason == "Data leak found in training data."


def test_withdraw(world, client_for, data_scientist, risk_officer):
    use_case, version = world
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    url = reverse("reviews:request-withdraw", args=[req.pk])
    client_for(risk_officer).post(url, {"reason": "not mine"})
    req.refresh_from_db()
    assert req.status == "pending"
    client_for(data_scientist).post(url, {"reason": "Found a bug."})
    req.refresh_from_db()
    assert req.status == "withdrawn"


def test_low_tier_moves_without_signoff(team, data_scientist, governance_lead, client_for):
    from governance.services import obligations_recompute
    from inventory.choices import RiskTier
    from tests.factories import ModelVersionFactory, UseCaseFactory

    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.LOW, criticality=1)
    obligations_recompute(use_case=use_case)
    version = ModelVersionFactory(
        model__use_case=use_case, authors=[data_scientist], training_data_ref="snap://1"
    )
    ask(client_for(data_scientist), version)
    req = PromotionRequest.objects.get()
    # Nobody is named in its RACI yet: that blocks even a move without sign-off ...
    assert req.status == "pending" and req.required_signoffs == 0
    assert {b.item.code for b in request_state(req).unwaived} == {"raci"}
    # ... until a governance lead waives it, which approves the move at once.
    svc.blocking_waive(request=req, by=governance_lead, code="raci", reason="Pilot, team of one.")
    req.refresh_from_db()
    version.refresh_from_db()
    assert req.status == "approved" and version.environment == "qa"


def test_pages_need_a_role(world, client_for, no_role_user, client):
    use_case, version = world
    for url in (
        reverse("reviews:pending"),
        reverse("reviews:version", args=[version.pk]),
        reverse("reviews:gate-log"),
        reverse("reviews:periodic-reviews"),
    ):
        assert client_for(no_role_user).get(url).status_code == 403
        assert client.get(url).status_code == 302  # to the login page


@pytest.mark.parametrize("meaning", ["protocol_locked", "result_signed", "periodic_review"])
def test_a_request_takes_only_request_meanings(
    world, client_for, data_scientist, risk_officer, meaning
):
    from rest_framework.test import APIClient

    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    api = APIClient()
    api.force_login(risk_officer)
    response = api.post(
        f"/api/v1/promotion-requests/{req.pk}/sign/",
        {"meaning": meaning, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        svc.request_sign(request=req, by=risk_officer, password=PASSWORD, meaning=meaning)
    assert not Signature.objects.exists()
