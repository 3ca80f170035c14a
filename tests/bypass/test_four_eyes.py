"""Issue 12, item 9: "Policy publication and rule edits are one person's act, live."

Walked as the governance lead who tried it, through every route where each change
can be made: the API, the pages and the admin site. Each is refused (403/409/400)
or only records a pending proposal, and nothing of the change takes effect until a
second lead signs; the lead's own approval is refused on every route.
"""

from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance import tasks
from governance.models import (
    EthicsAnswerSet,
    EthicsApproval,
    FrameworkChange,
    FrameworkChangeDecision,
    PolicyVersion,
    RiskRule,
)
from governance.selectors import policy_default, policy_published_latest
from governance.services import ethics_position_answer, policy_draft_create
from governance.services.framework_changes import policy_publish_propose, risk_rule_propose_active
from governance.services.framework_content import risk_rule_content
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead
from tests.governance.test_ethics_services import position_answers
from tests.governance.test_policy_views import cells_post

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture(autouse=True)
def no_workers():
    with (
        mock.patch.object(tasks.use_cases_reclassify, "delay"),
        mock.patch.object(tasks.use_cases_reclassify_ethics, "delay"),
    ):
        yield


@pytest.fixture
def session_api(governance_lead):
    client = APIClient()
    client.force_login(governance_lead)
    return client


@pytest.fixture
def page(client_for, governance_lead):
    return client_for(governance_lead)


@pytest.fixture
def draft(governance_lead):
    return policy_draft_create(policy=policy_default(), by=governance_lead)


def rule() -> RiskRule:
    return RiskRule.objects.get(name="Customer-facing")


def nothing_decided() -> bool:
    return not FrameworkChangeDecision.objects.exists()


# --- publishing a policy version ------------------------------------------------------------


def test_api_publish_is_only_a_proposal_and_self_approval_is_refused(
    session_api, api_client_for, governance_lead, draft
):
    response = api_client_for(governance_lead).post(
        f"{API}/policy-versions/{draft.pk}/publish/", {"note": "Live now?"}, format="json"
    )
    assert response.status_code == 202
    change_id = response.json()["id"]
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft
    approve = f"{API}/framework-changes/{change_id}/approve/"
    own = session_api.post(approve, {"password": PASSWORD}, format="json")
    assert own.status_code == 403 and "other than the proposer" in own.json()["detail"]
    # An API token never signs, even a second lead's.
    token = api_client_for(other_lead()).post(approve, {"password": PASSWORD}, format="json")
    assert token.status_code == 403 and "API token" in token.json()["detail"]
    # Both refused signing attempts are audited.
    from audit.models import AuditEvent

    refused = AuditEvent.objects.filter(action="framework_change.decision_refused")
    assert {e.actor for e in refused} == {governance_lead, other_lead()}
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft and nothing_decided()
    assert policy_published_latest().number == 3


def test_page_publish_is_only_a_proposal_and_self_approval_is_refused(page, governance_lead, draft):
    response = page.post(
        reverse("governance:policy-version-publish", args=[draft.pk]), {"note": "Live now?"}
    )
    assert response.status_code == 302
    change = FrameworkChange.objects.get(policy_version=draft)
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert page.post(approve, {"password": PASSWORD}).status_code == 403
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft and nothing_decided()


def test_the_admin_offers_no_way_to_publish_or_edit_a_version(page, draft):
    url = reverse("admin:governance_policyversion_change", args=[draft.pk])
    response = page.post(url, {"status": "published", "number": "2", "change_note": "x"})
    assert response.status_code == 403
    assert PolicyVersion.objects.get(pk=draft.pk).is_draft


def test_the_proposed_draft_cannot_be_changed_after_the_proposal(
    page, api_client_for, governance_lead, draft
):
    change = policy_publish_propose(version=draft, by=governance_lead, note="As is.")
    before = list(draft.cells.values_list("tier", "consideration_id", "level"))
    cells = {"cells": [{"tier": 1, "consideration": "transparency", "level": "strict"}]}
    response = api_client_for(governance_lead).post(
        f"{API}/policy-versions/{draft.pk}/cells/", cells, format="json"
    )
    assert response.status_code == 400 and f"proposal #{change.pk}" in str(response.json())
    response = page.post(
        reverse("governance:policy-version", args=[draft.pk]),
        cells_post(draft, cell_1_transparency="strict"),
    )
    assert response.status_code == 400 and f"proposal #{change.pk}" in response.content.decode()
    assert list(draft.cells.values_list("tier", "consideration_id", "level")) == before
    response = api_client_for(governance_lead).delete(f"{API}/policy-versions/{draft.pk}/")
    assert response.status_code == 400 and PolicyVersion.objects.filter(pk=draft.pk).exists()


# --- classification rules ---------------------------------------------------------------------


def test_admin_rule_edit_add_delete_and_the_old_actions_are_refused(page):
    before = risk_rule_content(rule())
    change_url = reverse("admin:governance_riskrule_change", args=[rule().pk])
    assert page.post(change_url, {"name": "hacked", "min_tier": "1"}).status_code == 403
    assert page.post(reverse("admin:governance_riskrule_add"), {"name": "x"}).status_code == 403
    delete = reverse("admin:governance_riskrule_delete", args=[rule().pk])
    assert page.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:governance_riskrule_changelist")
    for action in ("deactivate", "delete_selected"):
        page.post(changelist, {"action": action, "_selected_action": [rule().pk]})
    assert risk_rule_content(rule()) == before and not FrameworkChange.objects.exists()


def test_admin_deactivation_is_only_a_proposal(page):
    changelist = reverse("admin:governance_riskrule_changelist")
    page.post(changelist, {"action": "propose_deactivate", "_selected_action": [rule().pk]})
    assert rule().active
    assert FrameworkChange.objects.get().kind == "risk_rule_deactivate"


def test_api_rule_change_is_only_a_proposal_and_self_approval_is_refused(
    session_api, api_client_for, governance_lead
):
    token_api = api_client_for(governance_lead)
    response = token_api.post(
        f"{API}/risk-rules/{rule().pk}/propose/",
        {"reason": "Off for now.", "changes": {"active": False}},
        format="json",
    )
    assert response.status_code == 202 and response.json()["kind"] == "risk_rule_deactivate"
    for method in ("put", "patch", "delete"):
        assert getattr(token_api, method)(f"{API}/risk-rules/{rule().pk}/").status_code == 405
    own = session_api.post(
        f"{API}/framework-changes/{response.json()['id']}/approve/",
        {"password": PASSWORD},
        format="json",
    )
    assert own.status_code == 403
    assert rule().active and nothing_decided()
    new = token_api.post(
        f"{API}/risk-rules/",
        {"reason": "x", "changes": {"name": "Quiet", "conditions": []}},
        format="json",
    )
    assert new.status_code == 400 and "conditions" in new.json()
    assert not RiskRule.objects.filter(name="Quiet").exists()


def test_page_rule_change_is_only_a_proposal_and_self_approval_is_refused(page):
    url = reverse("governance:risk-rule-propose", args=[rule().pk])
    assert page.get(url).status_code == 200
    data = {
        "name": "Customer-facing",
        "explanation": "Outputs seen by or acting on customers.",
        "min_criticality": "",
        "min_tier": "1",
        "order": "0",
        "conditions": '[{"question": "audience", "operator": "equals", "values": ["customers"]}]',
        "reason": "Lower it.",
    }
    response = page.post(url, data)
    assert response.status_code == 302
    change = FrameworkChange.objects.get()
    assert rule().min_tier == 2 and rule().active
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert page.post(approve, {"password": PASSWORD}).status_code == 403
    assert rule().min_tier == 2 and nothing_decided()


def test_other_roles_cannot_propose_or_decide(client_for, api_client_for, risk_officer, draft):
    change = risk_rule_propose_active(rule=rule(), active=False, by=draft.created_by, reason="x")
    assert (
        client_for(risk_officer)
        .post(
            reverse("governance:framework-change-approve", args=[change.pk]), {"password": PASSWORD}
        )
        .status_code
        == 403
    )
    assert (
        client_for(risk_officer).get(reverse("governance:risk-rule-propose-new")).status_code == 403
    )
    api = APIClient()
    api.force_login(risk_officer)
    assert (
        api.post(
            f"{API}/framework-changes/{change.pk}/approve/", {"password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        api_client_for(risk_officer)
        .post(
            f"{API}/risk-rules/{rule().pk}/propose/", {"reason": "x", "changes": {}}, format="json"
        )
        .status_code
        == 403
    )
    assert rule().active and nothing_decided()


# --- the organisation's ethical position -----------------------------------------------


def test_the_position_is_never_approved_by_its_proposer_on_any_route(
    page, session_api, governance_lead
):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    change = answer_set.framework_changes.get()
    assert (
        session_api.post(
            f"{API}/ethics-answer-sets/{answer_set.pk}/approve/", {"password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        session_api.post(
            f"{API}/framework-changes/{change.pk}/approve/", {"password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        page.post(
            reverse("governance:ethics-approve", args=[answer_set.pk]), {"password": PASSWORD}
        ).status_code
        == 403
    )
    assert (
        page.post(
            reverse("governance:framework-change-approve", args=[change.pk]),
            {"password": PASSWORD},
        ).status_code
        == 403
    )
    assert not EthicsApproval.objects.exists() and nothing_decided()


def test_the_admin_cannot_add_or_edit_a_position_or_its_approval(page, governance_lead):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    for url in (
        reverse("admin:governance_ethicsanswerset_add"),
        reverse("admin:governance_ethicsapproval_add"),
        reverse("admin:governance_ethicsanswerset_change", args=[answer_set.pk]),
        reverse(
            "admin:governance_frameworkchange_change", args=[answer_set.framework_changes.get().pk]
        ),
    ):
        response = page.post(url, {"answers": "{}", "answer_set": answer_set.pk})
        assert response.status_code == 403, url
    assert EthicsAnswerSet.objects.count() == 1 and not EthicsApproval.objects.exists()


def test_a_second_lead_without_the_password_approves_nothing(client_for, governance_lead):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    second = client_for(other_lead())
    response = second.post(reverse("governance:ethics-approve", args=[answer_set.pk]), {})
    assert response.status_code == 400
    api = APIClient()
    api.force_login(other_lead())
    response = api.post(
        f"{API}/ethics-answer-sets/{answer_set.pk}/approve/", {"password": "guess"}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()
    assert not EthicsApproval.objects.exists() and nothing_decided()


# --- publishing an ethics questionnaire version ----------------------------------------------


@pytest.fixture
def ethics_draft(governance_lead):
    from governance.selectors import ethics_template_get
    from governance.services import ethics_version_draft_create

    return ethics_version_draft_create(
        template=ethics_template_get(scope="organisation"),
        by=governance_lead,
        note="Ask about environmental impact.",
    )


def publish_in_admin(page, version):
    return page.post(
        reverse("admin:governance_ethicstemplateversion_changelist"),
        {"action": "publish", "_selected_action": [version.pk]},
        follow=True,
    )


def test_admin_ethics_publish_is_only_a_proposal_and_self_approval_is_refused(
    page, session_api, governance_lead, ethics_draft
):
    from governance.selectors import ethics_version_current

    current = ethics_version_current(scope="organisation")
    response = publish_in_admin(page, ethics_draft)
    assert response.status_code == 200 and "proposed" in response.content.decode()
    change = FrameworkChange.objects.get(kind="ethics_publish")
    assert change.is_pending and change.content["ethics_version"] == ethics_draft.pk
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "draft"
    assert ethics_version_current(scope="organisation") == current
    # The proposer cannot approve it: not on the page, not through the API.
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert page.post(approve, {"password": PASSWORD}).status_code == 403
    response = session_api.post(
        f"{API}/framework-changes/{change.pk}/approve/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "draft" and nothing_decided()


def test_a_second_lead_publishes_the_ethics_draft_and_it_is_audited(page, client_for, ethics_draft):
    from audit.models import AuditEvent
    from governance.selectors import ethics_version_current

    publish_in_admin(page, ethics_draft)
    change = FrameworkChange.objects.get(kind="ethics_publish")
    second = other_lead()
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    response = client_for(second).post(approve, {"password": PASSWORD, "reason": "Agreed."})
    assert response.status_code == 302
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "published" and ethics_draft.published_by == second
    assert ethics_version_current(scope="organisation") == ethics_draft
    assert AuditEvent.objects.filter(
        action="ethics.version_published", object_id=str(ethics_draft.pk)
    ).exists()
    assert AuditEvent.objects.filter(action="framework_change.approved").exists()


def test_an_ethics_draft_edited_after_its_proposal_is_not_published(
    page, governance_lead, ethics_draft
):
    from governance.services import ethics_question_set
    from governance.services.framework_changes import framework_change_approve

    publish_in_admin(page, ethics_draft)
    change = FrameworkChange.objects.get(kind="ethics_publish")
    ethics_question_set(
        version=ethics_draft,
        by=governance_lead,
        code="environment",
        text="Is environmental impact considered?",
        kind="single",
        options=[("yes", "Yes"), ("no", "No")],
    )
    with pytest.raises(Exception, match="changed since it was proposed"):
        framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "draft"


def test_only_governance_leads_propose_an_ethics_publication(
    client_for, data_scientist, risk_officer, ethics_draft
):
    from django.core.exceptions import PermissionDenied

    from governance.services.framework_changes import ethics_version_publish_propose

    for user in (data_scientist, risk_officer):
        response = publish_in_admin(client_for(user), ethics_draft)
        assert response.status_code in (403, 200)
        with pytest.raises(PermissionDenied):
            ethics_version_publish_propose(version=ethics_draft, by=user, note="Mine.")
    assert not FrameworkChange.objects.exists()
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "draft"


def test_the_api_has_no_route_that_publishes_an_ethics_version(session_api, ethics_draft):
    assert session_api.post(f"{API}/ethics-versions/", {}, format="json").status_code == 405
    for verb in ("patch", "put", "delete"):
        response = getattr(session_api, verb)(
            f"{API}/ethics-versions/{ethics_draft.pk}/", {"status": "published"}, format="json"
        )
        assert response.status_code == 405
    response = session_api.post(f"{API}/ethics-versions/{ethics_draft.pk}/publish/")
    assert response.status_code == 404
    ethics_draft.refresh_from_db()
    assert ethics_draft.status == "draft" and not FrameworkChange.objects.exists()
