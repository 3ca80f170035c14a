"""Findings management (issue 16), tried as the people it constrains: the flow open ->
planned -> remediated -> verified -> closed through the pages and the API, and every
way round it refused with a reason, nothing written."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core import finding_rules as fr
from reviews.models import Finding, FindingEvent, RemediationAction
from reviews.selectors.findings import findings_blocking
from reviews.selectors.promotion import request_state
from reviews.services import findings as svc
from reviews.services import promotion as promotion_svc

API = "/api/v1/findings"


def day(n: int) -> str:
    return str(timezone.localdate() + dt.timedelta(days=n))


@pytest.fixture
def finding(world, risk_officer):
    _, version = world
    found, _ = svc.finding_open(
        version=version, by=risk_officer, title="Holdout too small", severity="high"
    )
    return found


def snapshot(finding):
    finding.refresh_from_db()
    return (
        finding.status,
        finding.severity,
        finding.owner_id,
        finding.due_on,
        FindingEvent.objects.filter(finding=finding).count(),
        RemediationAction.objects.filter(finding=finding).count(),
    )


def test_opening_sets_due_date_and_owner_from_policy_and_raci(finding, analyst):
    assert finding.status == "open" and finding.severity == "high"
    # The default policy gives a high finding 30 days; the RACI's Accountable for data
    # modeling (the business analyst) owns it.
    assert finding.due_on == timezone.localdate() + dt.timedelta(days=30)
    assert finding.owner == analyst
    assert finding.events.get().action == "opened"
    assert AuditEvent.objects.filter(action="finding.opened", object_id=str(finding.pk)).exists()


def test_the_whole_flow_through_the_pages(
    finding, client_for, analyst, data_scientist, risk_officer, governance_lead
):
    owner = client_for(analyst)
    plan = owner.post(
        reverse("reviews:finding-plan", args=[finding.pk]),
        {
            "plan": "Double the holdout and re-run the back-test.",
            "actions": f"{day(5)} Draw a new holdout\n{day(10)} Re-run the back-test",
        },
    )
    assert plan.status_code == 302, plan.content
    finding.refresh_from_db()
    assert finding.status == "planned"
    actions = list(finding.actions.order_by("order"))
    assert [a.text for a in actions] == ["Draw a new holdout", "Re-run the back-test"]
    # Remediated refused while an action is not done.
    early = owner.post(reverse("reviews:finding-remediate", args=[finding.pk]), {"note": "Done"})
    assert early.status_code == 400 and b"Mark every action" in early.content
    for action in actions:
        done = client_for(data_scientist).post(
            reverse("reviews:finding-action-done", args=[finding.pk, action.pk])
        )
        assert done.status_code == 302
    assert (
        owner.post(
            reverse("reviews:finding-remediate", args=[finding.pk]),
            {"note": "Holdout doubled; back-test in the evidence folder."},
        ).status_code
        == 302
    )
    verified = client_for(risk_officer).post(
        reverse("reviews:finding-verify", args=[finding.pk]),
        {"note": "Back-test re-run checked.", "outcome": "verified"},
    )
    assert verified.status_code == 302
    closed = client_for(governance_lead).post(
        reverse("reviews:finding-close", args=[finding.pk]), {"note": "Verified remediation."}
    )
    assert closed.status_code == 302
    finding.refresh_from_db()
    assert (finding.status, finding.remediated_by, finding.verified_by, finding.resolved_by) == (
        "closed",
        analyst,
        risk_officer,
        governance_lead,
    )
    assert list(finding.events.values_list("action", flat=True)) == [
        "opened",
        "planned",
        "action_done",
        "action_done",
        "remediated",
        "verified",
        "closed",
    ]
    page = client_for(risk_officer).get(reverse("reviews:finding-detail", args=[finding.pk]))
    assert page.status_code == 200 and b"Verified remediation." in page.content


def test_the_owner_cannot_verify_their_own_remediation(
    finding, client_for, api_client_for, analyst
):
    svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
    before = snapshot(finding)
    page = client_for(analyst).post(
        reverse("reviews:finding-verify", args=[finding.pk]), {"note": "I checked it myself."}
    )
    assert page.status_code == 403
    api = api_client_for(analyst).post(f"{API}/{finding.pk}/verify/", {"note": "Me"}, format="json")
    assert api.status_code == 403 and "verified by the second line" in api.json()["detail"]
    assert snapshot(finding) == before


def test_a_second_line_owner_cannot_verify_what_they_own(
    finding, api_client_for, governance_lead, risk_officer, second_risk_officer
):
    svc.finding_set_owner(
        finding=finding, by=governance_lead, owner=risk_officer, reason="Risk owns the fix."
    )
    svc.finding_remediate(finding=finding, by=governance_lead, note="Fixed it myself.")
    before = snapshot(finding)
    own = api_client_for(risk_officer).post(
        f"{API}/{finding.pk}/verify/", {"note": "Mine"}, format="json"
    )
    assert own.status_code == 403 and "You own (or owned) this finding" in own.json()["detail"]
    remediator = api_client_for(governance_lead).post(
        f"{API}/{finding.pk}/verify/", {"note": "Mine"}, format="json"
    )
    assert (
        remediator.status_code == 403
        and "marked this finding remediated" in (remediator.json()["detail"])
    )
    assert snapshot(finding) == before
    ok = api_client_for(second_risk_officer).post(
        f"{API}/{finding.pk}/verify/", {"note": "Checked."}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["status"] == "verified"


def test_a_developer_with_a_verifier_role_cannot_verify(finding, analyst, data_scientist, world):
    from accounts.roles import Role
    from tests.factories import user_with_role

    _, version = world
    # A validator who is an author of the version develops it.
    dev_validator = user_with_role(Role.VALIDATOR, username="dev-validator")
    version.authors.add(dev_validator)
    svc.finding_remediate(finding=finding, by=data_scientist, note="Fixed.")
    with pytest.raises(Exception) as refused:
        svc.finding_verify(finding=finding, by=dev_validator, note="Looks fine.")
    assert "author or the registrant" in str(refused.value)
    assert Finding.objects.get(pk=finding.pk).status == "remediated"


def test_closing_without_verification_is_refused(
    finding, client_for, api_client_for, analyst, governance_lead
):
    for status in ("open", "remediated"):
        if status == "remediated":
            svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
        before = snapshot(finding)
        page = client_for(governance_lead).post(
            reverse("reviews:finding-close", args=[finding.pk]), {"note": "Close it."}
        )
        assert page.status_code == 400 and b"verified its remediation" in page.content
        api = api_client_for(governance_lead).post(
            f"{API}/{finding.pk}/close/", {"note": "Close it."}, format="json"
        )
        assert api.status_code == 400 and "verified" in str(api.json())
        assert snapshot(finding) == before


def test_the_first_line_cannot_regrade_reassign_or_close(
    finding, api_client_for, data_scientist, analyst
):
    before = snapshot(finding)
    api = api_client_for(data_scientist)
    assert (
        api.post(
            f"{API}/{finding.pk}/severity/", {"severity": "low", "reason": "Minor"}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"{API}/{finding.pk}/owner/",
            {"owner": data_scientist.username, "reason": "Me"},
            format="json",
        ).status_code
        == 403
    )
    assert (
        api.post(f"{API}/{finding.pk}/close/", {"note": "Done"}, format="json").status_code == 403
    )
    assert snapshot(finding) == before


def test_regrading_moves_the_due_date_by_the_policy(finding, api_client_for, risk_officer):
    answer = api_client_for(risk_officer).post(
        f"{API}/{finding.pk}/severity/",
        {"severity": "critical", "reason": "Affects every applicant."},
        format="json",
    )
    assert answer.status_code == 200
    assert answer.json()["due_on"] == str(finding.opened_at.date() + dt.timedelta(days=14))
    event = finding.events.get(action="severity")
    assert event.detail["severity"] == ["high", "critical"]


def test_the_owner_must_be_of_the_team_or_the_raci(finding, api_client_for, risk_officer, auditor):
    before = snapshot(finding)
    answer = api_client_for(risk_officer).post(
        f"{API}/{finding.pk}/owner/",
        {"owner": auditor.username, "reason": "Why not"},
        format="json",
    )
    assert answer.status_code == 400 and "owner" in answer.json()
    assert snapshot(finding) == before


@pytest.mark.parametrize(
    ("actions", "words"),
    [
        ([], "at least one action"),
        ([{"text": "Later", "due_on": day(60)}], "after the finding's due date"),
        ([{"text": "Yesterday", "due_on": day(-1)}], "in the past"),
        ([{"text": "", "due_on": day(3)}], "may not be blank"),
    ],
)
def test_a_plan_that_does_not_remediate_in_time_is_refused(
    finding, api_client_for, analyst, actions, words
):
    before = snapshot(finding)
    answer = api_client_for(analyst).post(
        f"{API}/{finding.pk}/plan/", {"plan": "Fix it", "actions": actions}, format="json"
    )
    assert answer.status_code == 400 and words in str(answer.json()).lower().replace("’", "'")
    assert snapshot(finding) == before


def test_the_plan_page_says_what_is_wrong_with_a_line(finding, client_for, analyst):
    before = snapshot(finding)
    answer = client_for(analyst).post(
        reverse("reviews:finding-plan", args=[finding.pk]),
        {"plan": "Fix it", "actions": "next week do it"},
    )
    assert answer.status_code == 400 and b"Line 1: start with the date" in answer.content
    assert snapshot(finding) == before


def test_someone_outside_the_model_cannot_plan_or_remediate(
    finding, api_client_for, risk_officer, other_data_scientist
):
    before = snapshot(finding)
    for user in (risk_officer, other_data_scientist):
        answer = api_client_for(user).post(
            f"{API}/{finding.pk}/remediated/", {"note": "Fixed"}, format="json"
        )
        assert answer.status_code == 403 and "owner" in answer.json()["detail"]
    assert snapshot(finding) == before


# --- Blocking by severity ------------------------------------------------------------------


def test_severity_decides_what_blocks(world, risk_officer, data_scientist):
    _, version = world
    low, _ = svc.finding_open(version=version, by=risk_officer, title="Typo", severity="low")
    medium, _ = svc.finding_open(version=version, by=risk_officer, title="Drift", severity="medium")
    assert [f.pk for f in findings_blocking(version, "qa", validation=False)] == [medium.pk]
    req = promotion_svc.request_create(version=version, by=data_scientist, justification="QA")
    codes = [b.item.code for b in request_state(req).unwaived]
    assert f"finding:{medium.pk}" in codes and f"finding:{low.pk}" not in codes


def test_a_remediated_finding_blocks_until_verified(finding, analyst, risk_officer, world):
    _, version = world
    svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
    assert findings_blocking(version, "prod", validation=False) == [finding]
    svc.finding_verify(finding=finding, by=risk_officer, note="Checked.")
    assert findings_blocking(version, "prod", validation=False) == []


def test_a_refused_verification_goes_back_to_the_plan(finding, analyst, risk_officer):
    svc.finding_remediate(finding=finding, by=analyst, note="Fixed.")
    svc.finding_verify(finding=finding, by=risk_officer, note="No back-test.", accepted=False)
    finding.refresh_from_db()
    assert finding.status == "planned" and finding.verified_by is None
    assert finding.events.last().action == "verification_refused"


# --- The list, its filters and the CSV -----------------------------------------------------


def test_the_list_filters_and_exports(world, client_for, risk_officer, auditor):
    _, version = world
    for severity in fr.SEVERITIES:
        svc.finding_open(
            version=version, by=risk_officer, title=f"=cmd {severity}", severity=severity
        )
    late, _ = svc.finding_open(version=version, by=risk_officer, title="Late", severity="low")
    Finding.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    client = client_for(auditor)
    page = client.get(reverse("reviews:findings"), {"severity": "critical"})
    assert page.status_code == 200
    assert b"=cmd critical" in page.content and b"=cmd low" not in page.content
    assert b"chart-ageing-data" in page.content
    overdue = client.get(reverse("reviews:findings"), {"overdue": "true"})
    assert list(overdue.context["page_obj"].object_list) == [late]
    assert overdue.context["summary"]["overdue"] == 1
    csv = client.get(reverse("reviews:findings-csv"), {"severity": "critical"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("id,use_case,team,model_version,source,severity,status")
    assert len(lines) == 2 and "'=cmd critical" in lines[1]  # formula-safe


@pytest.mark.parametrize(
    "query",
    [
        {"opened_after": "2026-02-30"},
        {"opened_after": "2026-03-01", "opened_before": "2026-02-01"},
        {"opened_after": "1900-01-01"},
        {"severity": "severe"},
        {"overdue": "maybe"},
        {"team": "-1"},
    ],
)
def test_filters_out_of_range_are_400s(world, client_for, auditor, query):
    client = client_for(auditor)
    page = client.get(reverse("reviews:findings"), query)
    assert page.status_code == 400 and b"alert-error" in page.content
    assert client.get(reverse("reviews:findings-csv"), query).status_code == 400


def test_a_finding_opened_by_hand_says_where_it_came_from(world, api_client_for, risk_officer):
    _, version = world
    api = api_client_for(risk_officer)
    refused = api.post(
        f"{API}/", {"model_version": version.pk, "title": "x", "source": "bias"}, format="json"
    )
    assert refused.status_code == 400 and "source" in refused.json()
    made = api.post(
        f"{API}/",
        {
            "model_version": version.pk,
            "title": "Audit: no ADR",
            "source": "audit",
            "severity": "low",
        },
        format="json",
    )
    assert made.status_code == 201 and made.json()["source"] == "audit"
    listed = api.get(f"{API}/", {"source": "audit"}).json()["results"]
    assert [f["title"] for f in listed] == ["Audit: no ADR"]
