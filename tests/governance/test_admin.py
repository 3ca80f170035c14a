"""The admin site: who gets in, and the governance framework's admins (regulations,
questionnaire, rules, read-only classifications)."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from accounts.roles import Role
from governance import tasks
from governance.models import Classification, RiskQuestion, RiskQuestionOption, RiskRule
from governance.services import classification_submit
from inventory.models import Regulation
from tests.factories import UseCaseFactory, UserFactory, full_answers, user_with_role
from tests.outbox import queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client, governance_lead):
    client.force_login(governance_lead)
    return client


@pytest.fixture
def classification(governance_lead):
    return classification_submit(
        use_case=UseCaseFactory(), answers=full_answers(audience="public"), by=governance_lead
    )


@pytest.fixture
def delay():
    """The re-evaluations queued (the task outbox's rows, tests/outbox.py)."""
    return lambda: queued(tasks.use_cases_reclassify)


# --- Who gets in ---------------------------------------------------------------------


def test_the_site_is_titled_for_governance(lead_client):
    response = lead_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "ML model governance — administration" in response.content.decode()


@pytest.mark.parametrize(
    "role", [Role.DATA_SCIENTIST, Role.RISK_OFFICER, Role.APPROVER, Role.AUDITOR]
)
def test_other_roles_are_sent_to_the_login_page_even_as_staff(client, role):
    client.force_login(user_with_role(role, is_staff=True))
    for url in [reverse("admin:index"), reverse("admin:governance_riskrule_changelist")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_governance_lead_needs_staff_status(client):
    client.force_login(user_with_role(Role.GOVERNANCE_LEAD, is_staff=False))
    assert client.get(reverse("admin:index")).status_code == 302


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("admin:inventory_regulation_changelist"))
    assert response.status_code == 302


def test_a_superuser_gets_in_without_a_role(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_data_scientist_cannot_post_to_the_admin(client, delay):
    client.force_login(user_with_role(Role.DATA_SCIENTIST, is_staff=True))
    rule = RiskRule.objects.get(name="Public audience")
    response = client.post(
        reverse("admin:governance_riskrule_change", args=[rule.pk]), {"name": "hacked"}
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Public audience"


# --- Every page answers ---------------------------------------------------------------


@pytest.mark.parametrize("model", ["inventory_regulation", "governance_riskquestion"])
def test_list_add_and_change_pages_answer(lead_client, model):
    objects = {
        "inventory_regulation": Regulation,
        "governance_riskquestion": RiskQuestion,
    }
    obj = objects[model].objects.first()
    for url in [
        reverse(f"admin:{model}_changelist"),
        reverse(f"admin:{model}_changelist") + "?q=e",
        reverse(f"admin:{model}_add"),
        reverse(f"admin:{model}_change", args=[obj.pk]),
    ]:
        assert lead_client.get(url).status_code == 200, url


def test_list_filters_answer(lead_client, classification):
    for url in [
        reverse("admin:governance_riskrule_changelist") + "?active__exact=1&min_tier=4",
        reverse("admin:inventory_regulation_changelist") + "?area=finance",
        reverse("admin:governance_riskquestion_changelist") + "?kind=single",
        reverse("admin:governance_classification_changelist") + "?risk_tier=4",
        reverse("admin:governance_classification_changelist")
        + f"?use_case__id__exact={classification.use_case_id}",
    ]:
        response = lead_client.get(url)
        assert response.status_code == 200, url
        assert "?e=1" not in response.get("Location", ""), url


# --- Rules: shown here, changed only by four-eyes proposals ---------------------------


def test_rule_pages_are_read_only_with_a_link_to_propose_a_change(lead_client):
    rule = RiskRule.objects.get(name="Customer-facing")
    page = lead_client.get(reverse("admin:governance_riskrule_change", args=[rule.pk]))
    assert page.status_code == 200
    assert reverse("governance:risk-rule-propose", args=[rule.pk]) in page.content.decode()
    assert lead_client.get(reverse("admin:governance_riskrule_changelist")).status_code == 200
    assert lead_client.get(reverse("admin:governance_riskrule_add")).status_code == 403


def test_the_list_actions_propose_and_change_nothing(lead_client, governance_lead, delay):
    from governance.models import FrameworkChange

    rule = RiskRule.objects.get(name="Customer-facing")
    changelist = reverse("admin:governance_riskrule_changelist")
    response = lead_client.post(
        changelist, {"action": "propose_deactivate", "_selected_action": [rule.pk]}
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active
    change = FrameworkChange.objects.get(risk_rule=rule)
    assert (change.kind, change.proposed_by, change.is_pending) == (
        "risk_rule_deactivate",
        governance_lead,
        True,
    )
    assert change.content["active"] is False
    assert delay() == []


# --- Questionnaire and regulations ---------------------------------------------------


def question_data(question: RiskQuestion, **fields) -> dict:
    options = list(question.options.order_by("order", "id"))
    data = {
        "code": question.code,
        "text": question.text,
        "help_text": question.help_text,
        "kind": question.kind,
        "source": question.source,
        "dimension": question.dimension,
        "order": question.order,
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": str(len(options)),
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
    }
    if question.required:
        data["required"] = "on"
    for i, option in enumerate(options):
        data.update(
            {
                f"options-{i}-id": str(option.pk),
                f"options-{i}-question": str(question.pk),
                f"options-{i}-order": str(option.order),
                f"options-{i}-code": option.code,
                f"options-{i}-label": option.label,
            }
        )
    data.update(fields)
    return data


def test_an_option_used_by_a_rule_cannot_be_removed(lead_client):
    question = RiskQuestion.objects.get(code="audience")
    public = question.options.get(code="public")
    index = list(question.options.order_by("order", "id")).index(public)
    data = question_data(question, **{f"options-{index}-DELETE": "on"})
    response = lead_client.post(
        reverse("admin:governance_riskquestion_change", args=[question.pk]), data
    )
    assert response.status_code == 400
    assert "Change the rules that use this question first." in response.content.decode()
    assert RiskQuestionOption.objects.filter(pk=public.pk).exists()


def test_a_question_label_edit_is_proposed_and_applied_by_a_second_lead(lead_client):
    from governance.models import FrameworkChange
    from governance.services.framework_changes import framework_change_approve
    from tests.factories import PASSWORD
    from tests.governance.four_eyes import other_lead

    question = RiskQuestion.objects.get(code="audience")
    data = question_data(
        question, text="Who sees or is affected by the results?", proposal_reason="Plainer."
    )
    response = lead_client.post(
        reverse("admin:governance_riskquestion_change", args=[question.pk]), data
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.text != "Who sees or is affected by the results?"
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    question.refresh_from_db()
    assert question.text == "Who sees or is affected by the results?"


def test_regulations_are_never_deleted_in_the_admin(lead_client):
    """The regulations are catalogue rows (issue 12, four eyes): an edit is a proposal,
    and nothing is deleted, used or not."""
    gxp = Regulation.objects.get(code="gxp")
    response = lead_client.get(reverse("admin:inventory_regulation_delete", args=[gxp.pk]))
    assert response.status_code == 403
    unused = Regulation.objects.create(code="local-rule", name="A local rule")
    response = lead_client.post(
        reverse("admin:inventory_regulation_delete", args=[unused.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Regulation.objects.filter(pk=unused.pk).exists()


# --- Classifications are read-only ---------------------------------------------------


def test_classifications_can_be_read_with_their_reasons(lead_client, classification):
    response = lead_client.get(
        reverse("admin:governance_classification_change", args=[classification.pk])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Public audience" in body and "Outputs seen by or acting on the public." in body
    assert 'name="_save"' not in body
    assert lead_client.get(reverse("admin:governance_classification_changelist")).status_code == (
        200
    )


def test_classifications_cannot_be_added_changed_or_deleted(lead_client, classification):
    before = (Classification.objects.count(), classification.risk_tier, classification.note)
    change = reverse("admin:governance_classification_change", args=[classification.pk])
    assert lead_client.get(reverse("admin:governance_classification_add")).status_code == 403
    assert lead_client.post(reverse("admin:governance_classification_add"), {}).status_code == (403)
    assert lead_client.post(change, {"note": "edited", "risk_tier": "1"}).status_code == 403
    delete = reverse("admin:governance_classification_delete", args=[classification.pk])
    assert lead_client.post(delete, {"post": "yes"}).status_code == 403
    response = lead_client.post(
        reverse("admin:governance_classification_changelist"),
        {"action": "delete_selected", "_selected_action": [classification.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    classification.refresh_from_db()
    assert (
        Classification.objects.count(),
        classification.risk_tier,
        classification.note,
    ) == before


# --- People ----------------------------------------------------------------------------


def test_a_governance_lead_cannot_grant_superuser_status(lead_client, governance_lead):
    url = reverse("admin:auth_user_change", args=[governance_lead.pk])
    response = lead_client.get(url)
    assert response.status_code == 200
    assert 'name="is_superuser"' not in response.content.decode()
    superuser = UserFactory(is_superuser=True, is_staff=True)
    response = lead_client.post(
        reverse("admin:auth_user_change", args=[superuser.pk]), {"username": "taken-over"}
    )
    assert response.status_code == 403
    assert User.objects.filter(pk=superuser.pk, username=superuser.username).exists()
