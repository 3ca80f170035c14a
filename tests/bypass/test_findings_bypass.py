"""Findings management tried by the people it constrains (issue 16, review of the
first cut): every way round the flow refused with a reason, nothing written."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from reviews.models import Finding, FindingEvent
from reviews.services import acceptance as acceptance_svc
from reviews.services import findings as svc
from tests.reviews.signoff_world import PASSWORD

API = "/api/v1/findings"


@pytest.fixture
def finding(world, risk_officer):
    _, version = world
    found, _ = svc.finding_open(version=version, by=risk_officer, title="Holdout", severity="high")
    return found


def state(finding):
    finding.refresh_from_db()
    return finding.status, finding.events.count(), finding.actions.count(), finding.severity


def test_refused_verification_of_an_open_finding_is_refused(
    finding, api_client_for, governance_lead
):
    """A lead may change the model (owner's side) and verify; sending back an open
    finding would skip the plan: refused."""
    before = state(finding)
    answer = api_client_for(governance_lead).post(
        f"{API}/{finding.pk}/verify/", {"note": "x", "outcome": "refused"}, format="json"
    )
    assert answer.status_code == 400 and "only a remediated" in str(answer.json())
    assert state(finding) == before


def test_a_verifier_cannot_rewrite_the_owner_s_plan(finding, api_client_for, analyst, risk_officer):
    svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
    before = state(finding)
    answer = api_client_for(risk_officer).post(
        f"{API}/{finding.pk}/plan/",
        {"plan": "Mine now", "actions": [{"text": "x", "due_on": "2099-01-01"}]},
        format="json",
    )
    assert answer.status_code == 403
    assert state(finding) == before


def test_a_former_owner_cannot_verify_after_handing_it_over(
    finding, risk_officer, governance_lead, data_scientist, second_risk_officer
):
    svc.finding_set_owner(finding=finding, by=governance_lead, owner=risk_officer, reason="Risk")
    svc.finding_set_owner(finding=finding, by=risk_officer, owner=data_scientist, reason="Team")
    svc.finding_remediate(finding=finding, by=data_scientist, note="Fixed.")
    with pytest.raises(PermissionDenied, match="own \\(or owned\\)"):
        svc.finding_verify(finding=finding, by=risk_officer, note="Fine.")
    svc.finding_verify(finding=finding, by=second_risk_officer, note="Checked.")
    assert Finding.objects.get(pk=finding.pk).status == "verified"


def test_the_owner_neither_accepts_nor_regrades_their_own_finding(
    world, risk_officer, governance_lead
):
    _, version = world
    medium, _ = svc.finding_open(version=version, by=governance_lead, title="Docs")
    svc.finding_set_owner(finding=medium, by=governance_lead, owner=risk_officer, reason="Risk")
    before = state(medium)
    with pytest.raises(PermissionDenied, match="own"):
        svc.finding_set_severity(finding=medium, by=risk_officer, severity="low", reason="Minor")
    from django.utils import timezone

    with pytest.raises(PermissionDenied, match="own"):
        acceptance_svc.finding_accept(
            finding=medium,
            by=risk_officer,
            reason="Fine by me.",
            expires_on=timezone.localdate() + timezone.timedelta(days=30),
            password=PASSWORD,
        )
    assert state(medium) == before


def test_an_accepted_finding_is_not_regraded_under_its_acceptance(
    world, risk_officer, governance_lead
):
    from django.utils import timezone

    _, version = world
    medium, _ = svc.finding_open(version=version, by=governance_lead, title="Docs")
    acceptance_svc.finding_accept(
        finding=medium,
        by=risk_officer,
        reason="Low impact for now.",
        expires_on=timezone.localdate() + timezone.timedelta(days=300),
        password=PASSWORD,
    )
    before = state(medium)
    with pytest.raises(ValidationError, match="acceptance has ended"):
        svc.finding_set_severity(
            finding=medium, by=governance_lead, severity="critical", reason="Worse than thought"
        )
    assert state(medium) == before


def test_a_source_that_finds_it_again_reopens_a_verified_finding(
    world, data_scientist, risk_officer
):
    _, version = world
    first, created = svc.finding_create(
        version=version, by=None, title="Drift in age", source="monitoring", key="monitoring:1:age"
    )
    assert created
    svc.finding_remediate(finding=first, by=data_scientist, note="Retrained.")
    svc.finding_verify(finding=first, by=risk_officer, note="Checked.")
    again, created = svc.finding_create(
        version=version, by=None, title="Drift in age", source="monitoring", key="monitoring:1:age"
    )
    assert not created and again.pk == first.pk
    first.refresh_from_db()
    assert first.status == "open"
    # The remediation that did not hold no longer reads as the finding's.
    assert (first.verified_by, first.remediated_by, first.verification_note) == (None, None, "")
    assert first.events.filter(action="verified").exists()
    event = first.events.last()
    assert event.action == "reopened" and "found it again" in event.note


def test_the_verify_page_refuses_an_unknown_outcome(finding, client_for, analyst, risk_officer):
    svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
    before = state(finding)
    url = reverse("reviews:finding-verify", args=[finding.pk])
    bogus = client_for(risk_officer).post(url, {"note": "ok", "outcome": "sure"})
    assert bogus.status_code == 400 and b"verified or sent back" in bogus.content
    missing_note = client_for(risk_officer).post(url, {"note": "", "outcome": "verified"})
    assert missing_note.status_code == 400 and b"This field is required" in missing_note.content
    assert client_for(analyst).post(url, {"note": "me"}).status_code == 403
    assert state(finding) == before


def test_a_stale_action_is_a_400_not_a_500(finding, api_client_for, analyst):
    from django.utils import timezone

    day = str(timezone.localdate() + timezone.timedelta(days=3))
    api = api_client_for(analyst)
    assert (
        api.post(
            f"{API}/{finding.pk}/plan/",
            {"plan": "First", "actions": [{"text": "a", "due_on": day}]},
            format="json",
        ).status_code
        == 200
    )
    stale = finding.actions.get()
    assert (
        api.post(
            f"{API}/{finding.pk}/plan/",
            {"plan": "Second", "actions": [{"text": "b", "due_on": day}]},
            format="json",
        ).status_code
        == 200
    )
    answer = api.post(f"{API}/{finding.pk}/action-done/", {"action": stale.pk}, format="json")
    assert answer.status_code == 400
    with pytest.raises(ValidationError, match="no longer in the plan"):
        svc.remediation_action_done(action=stale, by=analyst)
    assert not FindingEvent.objects.filter(finding=finding, action="action_done").exists()
