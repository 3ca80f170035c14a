"""Attestation campaigns (issue 16, Step 7): publishing a policy version or an ethical
position starts one; people in the policy's roles acknowledge it on its page; the
governed user's ways around it are refused with nothing written; the policy decides
whether a lapsed person may sign; reminders and escalation go through the outbox once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from engagement import selectors as sel
from engagement.models import Attestation, AttestationCampaign
from engagement.services import engagement_remind
from governance.selectors import policy_default
from governance.services import policy_draft_create, policy_engagement_set
from governance.services.framework_changes import framework_change_approve, policy_publish_propose
from notifications.models import Notification
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead, policy_publish

pytestmark = pytest.mark.django_db


def publish(lead, *, roles=None, days=14, may_sign=False, note="Tighter bias thresholds."):
    draft = policy_draft_create(policy=policy_default(), by=lead)
    policy_engagement_set(
        version=draft,
        attestation_roles=roles or ["risk-officer", "approver", "governance-lead"],
        attestation_days=days,
        training_grace_days=30,
        lapsed_may_sign=may_sign,
        by=lead,
    )
    return policy_publish(version=draft, by=lead, note=note)


@pytest.fixture
def lapse(monkeypatch):
    """Move the engagement's clock past a campaign's due date (records are append-only:
    time moves, not the rows)."""

    def move(campaign, days=1):
        day = campaign.due_on + timedelta(days=days)
        monkeypatch.setattr(sel, "today", lambda: day)

    return move


@pytest.fixture
def campaign(governance_lead, risk_officer, approver, data_scientist):
    for user in (governance_lead, risk_officer, approver, data_scientist):
        user.email = f"{user.username}@example.org"
        user.save()
    version = publish(governance_lead)
    return AttestationCampaign.objects.get(policy_version=version)


def test_publishing_a_policy_starts_a_campaign_for_its_roles(
    campaign, risk_officer, approver, data_scientist, governance_lead
):
    assert campaign.subject == "policy" and campaign.title.endswith(
        f"v{campaign.policy_version.number}"
    )
    assert campaign.due_on == timezone.localdate() + timedelta(days=14)
    assert "Tighter bias thresholds." in campaign.statement
    asked = set(
        Notification.objects.filter(kind="attestation_requested").values_list(
            "recipient__username", flat=True
        )
    )
    assert {risk_officer.username, approver.username, governance_lead.username} <= asked
    assert data_scientist.username not in asked  # not a role the policy names
    assert AuditEvent.objects.filter(action="attestation_campaign.started").count() == 1


def test_acknowledging_on_the_page(campaign, client_for, risk_officer):
    page = client_for(risk_officer)
    shown = page.get(reverse("engagement:campaign-detail", args=[campaign.pk]))
    assert shown.status_code == 200 and b'data-testid="acknowledge-button"' in shown.content
    done = page.post(
        reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"}
    )
    assert done.status_code == 302
    mine = Attestation.objects.get(campaign=campaign, user=risk_officer)
    assert mine.statement_sha256 == campaign.statement_sha256
    assert AuditEvent.objects.filter(action="attestation.acknowledged", actor=risk_officer).exists()
    assert sel.attestations_for(risk_officer)[0].state == "done"


def test_the_ways_around_an_attestation_are_refused(
    campaign, client_for, risk_officer, data_scientist, governance_lead
):
    url = reverse("engagement:campaign-acknowledge", args=[campaign.pk])
    # Not ticked: 400, nothing written.
    assert client_for(risk_officer).post(url, {}).status_code == 400
    # Not one of its roles: 403.
    outsider = client_for(data_scientist).post(url, {"confirmed": "on"})
    assert outsider.status_code == 403 and b"you hold none of them" in outsider.content
    assert not Attestation.objects.exists()
    # Twice: 409, one row.
    client_for(risk_officer).post(url, {"confirmed": "on"})
    again = client_for(risk_officer).post(url, {"confirmed": "on"})
    assert again.status_code == 409 and Attestation.objects.count() == 1
    # A superseded campaign cannot be acknowledged instead of the current one.
    newer = publish(governance_lead, note="Second change.")
    assert sel.campaigns_current()[0].policy_version == newer
    old = client_for(governance_lead).post(url, {"confirmed": "on"})
    assert old.status_code == 409 and b"supersedes" in old.content
    # A record is never edited or deleted.
    row = Attestation.objects.get()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        Attestation.objects.filter(pk=row.pk).update(at=timezone.now())


def test_an_api_token_cannot_acknowledge(campaign, risk_officer):
    from engagement.services import attestation_acknowledge

    with pytest.raises(PermissionDenied, match="browser"):
        attestation_acknowledge(campaign=campaign, by=risk_officer, confirmed=True, via_token=True)
    assert not Attestation.objects.exists()


def test_ethical_position_approval_starts_a_campaign(governance_lead):
    from demo.ethics import POSITION
    from governance.services import ethics_position_answer
    from tests.governance.four_eyes import position_approve

    answer_set = ethics_position_answer(answers=POSITION, by=governance_lead, note="Board.")
    position_approve(answer_set=answer_set, by=other_lead())
    campaign = AttestationCampaign.objects.get(subject="ethics")
    assert campaign.ethics_approval.answer_set == answer_set
    assert campaign.title.startswith("Ethical position approved on")


def test_a_lapsed_signer_may_not_sign_until_they_acknowledge(
    campaign, governance_lead, risk_officer, client_for, lapse
):
    """The governed user signs a framework change after their attestation lapsed:
    refused with the reason before any password is checked; once acknowledged, allowed."""
    lapse(campaign)
    lead2 = other_lead()
    Attestation.objects.create(
        campaign=campaign, user=governance_lead, at=timezone.now(), statement_sha256="x" * 64
    )
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    change = policy_publish_propose(version=draft, by=governance_lead, note="Third.")
    with pytest.raises(PermissionDenied, match="was due on"):
        framework_change_approve(change=change, by=lead2, password=PASSWORD)
    assert not AttestationCampaign.objects.filter(policy_version=draft).exists()
    client_for(lead2).post(
        reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"}
    )
    lead2 = User.objects.get(pk=lead2.pk)  # the next request's user
    framework_change_approve(change=change, by=lead2, password=PASSWORD)
    assert AttestationCampaign.objects.filter(policy_version=draft).exists()


def test_the_policy_may_let_a_lapsed_signer_sign(governance_lead, lapse):
    version = publish(governance_lead, may_sign=True)
    campaign = AttestationCampaign.objects.get(policy_version=version)
    lapse(campaign)
    lead2 = other_lead()
    assert sel.attestations_for(lead2)[0].state == "lapsed"
    assert sel.signing_lapse_refusal(lead2) is None


def test_a_lapsed_approver_is_refused_on_the_request_page(
    world, campaign, client_for, data_scientist, risk_officer, lapse
):
    from reviews.models import PromotionRequest, Signature
    from reviews.services import promotion as svc
    from tests.reviews.signoff_world import PASSWORD as SIGN_PASSWORD

    _, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA")
    lapse(campaign)
    page = client_for(risk_officer)
    answer = page.post(
        reverse("reviews:request-sign", args=[req.pk]),
        {"meaning": "approved", "password": SIGN_PASSWORD},
    )
    assert answer.status_code == 403 and "acknowledge it on the Attestations page" in (
        answer.content.decode()
    )
    assert not Signature.objects.exists()
    # The API says the same.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(risk_officer)
    refused = api.post(
        f"/api/v1/promotion-requests/{req.pk}/sign/",
        {"meaning": "approved", "password": SIGN_PASSWORD},
        format="json",
    )
    assert refused.status_code == 403 and "lapsed" in refused.json()["detail"]
    assert PromotionRequest.objects.get().signatures.count() == 0


def test_reminders_and_escalation_are_sent_once(campaign, risk_officer, governance_lead):
    Attestation.objects.create(
        campaign=campaign, user=governance_lead, at=timezone.now(), statement_sha256="x" * 64
    )
    assert engagement_remind()["reminders"] == 0  # 14 days ahead: nothing yet
    soon = campaign.due_on - timedelta(days=2)
    first = engagement_remind(on=soon)
    assert first["reminders"] >= 1 and first["escalations"] == 0
    assert engagement_remind(on=soon)["reminders"] == 0  # once
    late = campaign.due_on + timedelta(days=1)
    counts = engagement_remind(on=late)
    assert counts["escalations"] >= 1
    escalation = Notification.objects.get(kind="attestation_escalated", recipient=governance_lead)
    assert (risk_officer.get_full_name() or risk_officer.username) in escalation.context["people"]
    assert engagement_remind(on=late)["escalations"] == 0


def test_completion_by_role_and_team(campaign, client_for, risk_officer, approver, auditor):
    client_for(risk_officer).post(
        reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"}
    )
    completion = sel.campaign_completion(campaign)
    roles = {r.label: (r.done, r.required) for r in completion.by_role}
    assert roles["Risk officer"] == (1, 1) and roles["Approver"] == (0, 1)
    assert approver in completion.pending and risk_officer not in completion.pending
    # Auditors oversee (read) completion; a data scientist sees only their own.
    overseen = client_for(auditor).get(reverse("engagement:campaign-detail", args=[campaign.pk]))
    assert b'data-testid="pending-people"' in overseen.content


def test_a_data_scientist_does_not_see_who_is_pending(campaign, client_for, data_scientist):
    page = client_for(data_scientist).get(reverse("engagement:campaign-detail", args=[campaign.pk]))
    assert page.status_code == 200 and b"pending-people" not in page.content
    listing = client_for(data_scientist).get(reverse("engagement:campaigns"))
    assert b"campaign-completion" not in listing.content


def test_pages_need_a_role(campaign, client_for, no_role_user, client):
    assert client_for(no_role_user).get(reverse("engagement:campaigns")).status_code == 403
    assert client.get(reverse("engagement:campaigns")).status_code == 302
    assert (
        client_for(no_role_user)
        .post(reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"})
        .status_code
        == 403
    )
    assert not Attestation.objects.exists()


def test_a_missing_campaign_is_a_404(client_for, risk_officer):
    assert client_for(risk_officer).get("/attestations/999999/").status_code == 404


def test_service_refuses_a_draft(governance_lead):
    from engagement.services import campaign_start

    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    with pytest.raises(ValidationError, match="published"):
        campaign_start(policy_version=draft, by=governance_lead)


def test_the_governance_snapshot_carries_the_completion(campaign, client_for, risk_officer):
    from oversight.selectors.indicators import engagement_indicators

    client_for(risk_officer).post(
        reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"}
    )
    done = sel.campaign_completion(campaign).overall
    values = engagement_indicators(timezone.localdate())
    assert values["attestations.completion_pct"] == round(100 * done.done / done.required, 1)
    assert values["training.completion_pct"] == 0.0  # nobody has passed a module yet
