"""My work (issue 16): one page per person of what waits for them, the navigation's
count, and the home page's figures linking to lists whose counts match them."""

import re

from django.urls import reverse

from reviews.services import findings as findings_svc
from reviews.services import promotion as promotion_svc


def counts(client) -> dict:
    response = client.get(reverse("dashboard:my-work-counts"))
    assert response.status_code == 200
    return response.json()


def test_the_risk_officer_sees_what_waits_for_them(
    world, client_for, data_scientist, risk_officer, analyst
):
    _, version = world
    req = promotion_svc.request_create(version=version, by=data_scientist, justification="QA")
    finding, _ = findings_svc.finding_open(version=version, by=risk_officer, title="Holdout")
    findings_svc.finding_remediate(finding=finding, by=analyst, note="Holdout doubled.")
    client = client_for(risk_officer)
    page = client.get(reverse("dashboard:my-work"))
    assert page.status_code == 200
    sections = page.context["sections"]
    assert [r.pk for r, _slot in sections["signatures"].rows] == [req.pk]
    assert [f.pk for f, _late in sections["verify"].rows] == [finding.pk]
    assert f"#{req.pk}".encode() in page.content
    got = counts(client)
    assert got["signatures"] == 1 and got["verify"] == 1
    assert got["total"] == sum(v for k, v in got.items() if k != "total")
    # The owner sees the finding as theirs, not as one to verify.
    owner = client_for(analyst)
    mine = owner.get(reverse("dashboard:my-work")).context["sections"]
    assert [f.pk for f, _ in mine["findings"].rows] == [finding.pk]
    assert mine["verify"].rows == []


def test_obligations_i_own_match_the_obligations_list(world, client_for, data_scientist):
    client = client_for(data_scientist)
    section = client.get(reverse("dashboard:my-work")).context["sections"]["obligations"]
    listed = client.get(
        reverse("governance:obligations"), {"state": "owed", "owner": data_scientist.username}
    )
    assert listed.status_code == 200
    assert section.count == listed.context["page_obj"].paginator.count


def test_the_navigation_fetches_the_count_only_for_people_with_a_role(
    client_for, auditor, no_role_user
):
    page = client_for(auditor).get(reverse("dashboard:my-work"))
    assert b"data-my-work-counts" in page.content and b"js/my_work.js" in page.content
    # An auditor signs nothing and owns nothing; only the training their role needs
    # (the primer on the eight steps) waits for them.
    got = counts(client_for(auditor))
    assert got["total"] == got["attestations"] == 1
    assert client_for(no_role_user).get(reverse("dashboard:my-work-counts")).status_code == 403


def _kpi(content: bytes, testid: str) -> tuple[str, int]:
    html = content.decode()
    block = re.search(
        rf'<a [^>]*href="([^"]+)"[^>]*data-testid="{testid}"[^>]*>(.*?)</a>', html, re.S
    )
    assert block, testid
    value = re.search(r'class="kpi-value">([\d,]+)<', block.group(2)).group(1)
    return block.group(1).replace("&amp;", "&"), int(value.replace(",", ""))


def test_home_figures_link_to_lists_of_as_many_rows(world, client_for, risk_officer, team):
    from tests.factories import UseCaseFactory

    UseCaseFactory(team=team, name="No RACI and no answers")
    client = client_for(risk_officer)
    home = client.get(reverse("dashboard:home"))
    for testid in ("kpi-obligations", "kpi-ethics", "kpi-raci"):
        url, value = _kpi(home.content, testid)
        listed = client.get(url)
        assert listed.status_code == 200, url
        assert listed.context["page_obj"].paginator.count == value, (testid, url, value)
        assert value > 0, testid


def test_the_lists_behind_the_figures_refuse_bad_filters(client_for, auditor):
    client = client_for(auditor)
    for query in ({"state": "bogus"}, {"tier": "9"}, {"use_case": "-1"}):
        answer = client.get(reverse("governance:obligations"), query)
        assert answer.status_code == 400 and b"alert-error" in answer.content, query
    assert client.get(reverse("governance:ethics-unanswered"), {"page": "x"}).status_code == 200
    assert client.get(reverse("governance:raci-incomplete"), {"page": "999"}).status_code == 200


def test_attestations_and_training_due_are_on_my_work(client_for, risk_officer, governance_lead):
    from engagement.models import AttestationCampaign
    from governance.selectors import policy_default
    from governance.services import policy_draft_create
    from tests.governance.four_eyes import policy_publish

    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    version = policy_publish(version=draft, by=governance_lead, note="New thresholds.")
    campaign = AttestationCampaign.objects.get(policy_version=version)
    client = client_for(risk_officer)
    section = client.get(reverse("dashboard:my-work")).context["sections"]["attestations"]
    kinds = [(kind, item.pk) for kind, item, _state, _due in section.rows]
    assert ("attestation", campaign.pk) in kinds
    assert {k for k, _ in kinds} == {"attestation", "training"}
    assert counts(client)["attestations"] == section.count
    client.post(reverse("engagement:campaign-acknowledge", args=[campaign.pk]), {"confirmed": "on"})
    after = client.get(reverse("dashboard:my-work")).context["sections"]["attestations"]
    assert ("attestation", campaign.pk) not in [(k, i.pk) for k, i, _s, _d in after.rows]


def test_remediations_to_verify_follow_the_finding_pages_rule(
    world, client_for, risk_officer, governance_lead, analyst, validator, second_risk_officer
):
    """My work reads "may I verify it" set-based; it must agree with the rule the
    finding's page and the service apply one finding at a time."""
    from reviews.selectors.findings import (
        finding_list,
        finding_who_refusal,
        findings_to_verify,
        findings_to_verify_shown,
    )

    _, version = world
    for title in ("Holdout", "Lineage", "Thresholds"):
        finding, _ = findings_svc.finding_open(version=version, by=risk_officer, title=title)
        if title == "Lineage":  # the risk officer (in the RACI) owned it for a while
            owner = finding.owner
            findings_svc.finding_set_owner(
                finding=finding, by=governance_lead, owner=risk_officer, reason="Cover."
            )
            finding = findings_svc.finding_set_owner(
                finding=finding_list().get(pk=finding.pk),
                by=governance_lead,
                owner=owner,
                reason="Back.",
            )
        findings_svc.finding_remediate(
            finding=finding_list().get(pk=finding.pk), by=analyst, note="Done."
        )
    remediated = list(finding_list().filter(status="remediated"))
    for user in (risk_officer, governance_lead, analyst, validator, second_risk_officer):
        by_rule = {f.pk for f in remediated if finding_who_refusal(user, f, "verified") is None}
        mine, _more = findings_to_verify(user, cap=100)
        assert {f.pk for f in mine} == by_rule, user.username
        # My work reads only the rows it shows, and counts the rest by id.
        shown, count, more = findings_to_verify_shown(user, cap=100, shown=1)
        assert [f.pk for f in shown] == [f.pk for f in mine[:1]] and count == len(mine)
        assert more is _more
    lineage = finding_list().get(title="Lineage").pk
    assert lineage not in {f.pk for f in findings_to_verify(risk_officer, cap=100)[0]}
