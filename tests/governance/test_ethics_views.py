"""Step 2 pages through the client: who sees and does what."""

from unittest import mock

import pytest
from django.urls import reverse

from accounts.roles import Role
from governance.models import EthicsAnswerSet, EthicsApproval
from governance.services import classification_submit, ethics_position_answer
from tests.factories import PASSWORD, UseCaseFactory, full_answers, user_with_role
from tests.governance.test_ethics_services import position_answers

pytestmark = pytest.mark.django_db


def position_post(**overrides):
    data = {
        "aspects": ["privacy", "bias"],
        "critical_aspects": ["bias"],
        "psychology": [],
        "financial_stance": "required",
        "transparency": "4",
        "accountability": "full",
        "accountability_notes": "",
        "ethics_note": "Board decision",
    }
    data.update(overrides)
    return data


def use_case_post(**overrides):
    data = {
        "aspects": ["bias"],
        "financial_impact": "none",
        "transparency": "3",
        "accountability": "The team lead.",
        "ethics_note": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def second_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead2")


def test_every_role_reads_the_position_page(users_by_role, client_for, governance_lead):
    ethics_position_answer(answers=position_answers(), by=governance_lead)
    for user in users_by_role.values():
        response = client_for(user).get(reverse("governance:ethics"))
        assert response.status_code == 200
        assert b"Awaiting approval" in response.content


def test_no_role_is_forbidden_and_anonymous_goes_to_login(client, client_for, no_role_user):
    assert client_for(no_role_user).get(reverse("governance:ethics")).status_code == 403
    response = client.get(reverse("governance:ethics"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_only_leads_answer_the_position(client_for, risk_officer, auditor, governance_lead):
    url = reverse("governance:ethics-answer")
    for user in (risk_officer, auditor):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, position_post()).status_code == 403
    client = client_for(governance_lead)
    assert client.get(url).status_code == 200
    response = client.post(url, position_post())
    assert response.status_code == 302
    answer_set = EthicsAnswerSet.objects.get()
    assert answer_set.answered_by == governance_lead and answer_set.note == "Board decision"
    assert answer_set.answers["transparency"] == 4


def test_bad_form_input_shows_errors_and_writes_nothing(client_for, governance_lead):
    response = client_for(governance_lead).post(
        reverse("governance:ethics-answer"),
        position_post(transparency="9", critical_aspects=["astrology"]),
    )
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not EthicsAnswerSet.objects.exists()


def test_approval_through_the_page(client_for, governance_lead, second_lead, risk_officer):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    url = reverse("governance:ethics-approve", kwargs={"pk": answer_set.pk})
    assert client_for(risk_officer).post(url).status_code == 403
    assert client_for(governance_lead).post(url).status_code == 403  # four eyes
    assert client_for(second_lead).get(url).status_code == 405
    page = client_for(second_lead).get(reverse("governance:ethics"))
    assert b"Sign the approval" in page.content
    # Without the password typed again, nothing is approved (400, the reason shown).
    response = client_for(second_lead).post(url, {"note": "Agreed"})
    assert response.status_code == 400 and b"password is not correct" in response.content
    assert not EthicsApproval.objects.exists()
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        response = client_for(second_lead).post(url, {"note": "Agreed", "password": PASSWORD})
    assert response.status_code == 302
    approval = EthicsApproval.objects.get()
    assert approval.approved_by == second_lead and approval.note == "Agreed"
    page = client_for(risk_officer).get(reverse("governance:ethics"))
    assert b"Approved position" in page.content and b"lead2" in page.content
    # A second approval is refused on the page (409: already decided), not an error page.
    response = client_for(second_lead).post(url, {"password": PASSWORD})
    assert response.status_code == 409 and b"already approved" in response.content


def test_compare_page_highlights_differences(client_for, governance_lead, auditor):
    left = ethics_position_answer(answers=position_answers(), by=governance_lead)
    right = ethics_position_answer(answers=position_answers(transparency=2), by=governance_lead)
    url = reverse("governance:ethics-compare")
    response = client_for(auditor).get(url, {"left": left.pk, "right": right.pk})
    assert response.status_code == 200
    assert response.content.count(b'class="ethics-changed"') == 1
    assert b"1 difference" in response.content
    assert b"Choose two" in client_for(auditor).get(url, {"left": "x"}).content
    assert client_for(auditor).get(url, {"left": left.pk, "right": 999999}).status_code == 404


def test_answer_set_and_version_pages(client_for, governance_lead, auditor):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    client = client_for(auditor)
    response = client.get(reverse("governance:ethics-answer-set", kwargs={"pk": answer_set.pk}))
    assert response.status_code == 200 and b"Bias and discrimination" in response.content
    response = client.get(
        reverse("governance:ethics-version", kwargs={"pk": answer_set.version_id})
    )
    assert response.status_code == 200 and b"critical_aspects" in response.content


def test_use_case_ethics_pages(
    client_for, data_scientist, other_data_scientist, risk_officer, auditor, team
):
    use_case = UseCaseFactory(team=team)
    page = reverse("governance:ethics-use-case", kwargs={"pk": use_case.pk})
    form = reverse("governance:ethics-use-case-answer", kwargs={"pk": use_case.pk})
    detail = client_for(auditor).get(
        reverse("dashboard:use-case-detail", kwargs={"pk": use_case.pk})
    )
    assert page.encode() in detail.content
    assert client_for(auditor).get(page).status_code == 200
    for user in (other_data_scientist, auditor, risk_officer):
        assert client_for(user).post(form, use_case_post()).status_code == 403
    response = client_for(data_scientist).post(form, use_case_post())
    assert response.status_code == 302
    answer_set = EthicsAnswerSet.objects.get(use_case=use_case)
    assert answer_set.answers["aspects"] == ["bias"] and answer_set.answers["psychology"] == []
    response = client_for(auditor).get(page)
    assert b"Bias and discrimination" in response.content


def test_use_case_answers_raise_the_tier_and_the_reason_shows(
    client_for, governance_lead, second_lead, data_scientist, risk_officer, team
):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        client_for(second_lead).post(
            reverse("governance:ethics-approve", kwargs={"pk": answer_set.pk}),
            {"password": PASSWORD},
        )
    use_case = UseCaseFactory(team=team)
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    client_for(data_scientist).post(
        reverse("governance:ethics-use-case-answer", kwargs={"pk": use_case.pk}),
        use_case_post(aspects=["privacy"]),
    )
    use_case.refresh_from_db()
    assert use_case.risk_tier == 3
    detail = client_for(risk_officer).get(
        reverse("dashboard:use-case-detail", kwargs={"pk": use_case.pk})
    )
    assert b"Touches an aspect the organisation holds critical" in detail.content
