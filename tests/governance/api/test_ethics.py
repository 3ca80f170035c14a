"""Step 2 API through APIClient: reads for every role, writes where allowed."""

from unittest import mock

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from governance.models import EthicsAnswerSet, EthicsApproval
from governance.selectors import ethics_template_get, ethics_version_current
from governance.services import (
    ethics_position_answer,
    ethics_version_draft_create,
)
from tests.factories import PASSWORD, UseCaseFactory, user_with_role
from tests.governance.four_eyes import ethics_publish
from tests.governance.test_ethics_services import position_answers, use_case_answers

pytestmark = pytest.mark.django_db

BASE = "/api/v1/"


@pytest.fixture
def second_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead2")


@pytest.mark.parametrize(
    "path",
    [
        "ethics-templates/",
        "ethics-versions/",
        "ethics-answer-sets/",
        "ethics-answer-sets/position/",
    ],
)
def test_every_role_reads(path, users_by_role, api_client_for, no_role_user):
    for user in users_by_role.values():
        assert api_client_for(user).get(BASE + path).status_code == 200, user
    assert api_client_for(no_role_user).get(BASE + path).status_code == 403
    assert APIClient().get(BASE + path).status_code == 401


def test_versions_carry_questions_and_options(api_client_for, auditor):
    version = ethics_version_current(scope="organisation")
    data = api_client_for(auditor).get(f"{BASE}ethics-versions/{version.pk}/").json()
    questions = {q["code"]: q for q in data["questions"]}
    assert [o["code"] for o in questions["critical_aspects"]["options"]][-1] == "bias"
    assert questions["transparency"]["scale_max"] == 5
    templates = api_client_for(auditor).get(f"{BASE}ethics-templates/").json()["results"]
    assert {t["scope"]: t["current_version"] for t in templates}["organisation"] == version.pk


def test_lead_answers_and_another_lead_approves(api_client_for, governance_lead, second_lead):
    url = f"{BASE}ethics-answer-sets/"
    response = api_client_for(governance_lead).post(
        url, {"answers": position_answers(), "note": "Board"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["answered_by"] == "lead" and body["approval"] is None and body["use_case"] is None
    assert body["tolerance"] == 1
    approve = f"{url}{body['id']}/approve/"
    assert api_client_for(governance_lead).post(approve, {}, format="json").status_code == 403
    # Signing needs a browser session and the password typed again: a token is refused.
    assert api_client_for(second_lead).post(approve, {}, format="json").status_code == 403
    session = APIClient()
    session.force_login(second_lead)
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        response = session.post(approve, {"note": "OK", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["approval"]["approved_by"] == "lead2"
    position = api_client_for(governance_lead).get(f"{url}position/").json()
    assert position["approved"]["id"] == body["id"] and position["pending"] is None
    again = session.post(approve, {"password": PASSWORD}, format="json")
    assert again.status_code == 400 and "already approved" in str(again.json())


@pytest.mark.parametrize(
    "role", [Role.AUDITOR, Role.APPROVER, Role.RISK_OFFICER, Role.DATA_SCIENTIST]
)
def test_other_roles_cannot_answer_or_approve_the_position(
    role, users_by_role, api_client_for, governance_lead
):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    client = api_client_for(users_by_role[role])
    url = f"{BASE}ethics-answer-sets/"
    assert client.post(url, {"answers": position_answers()}, format="json").status_code == 403
    assert client.post(f"{url}{answer_set.pk}/approve/", {}, format="json").status_code == 403
    assert EthicsAnswerSet.objects.count() == 1 and not EthicsApproval.objects.exists()


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"answers": position_answers(mystery=1)}, "mystery"),
        ({"answers": position_answers(aspects=["astrology"])}, "aspects"),
        ({"answers": position_answers(transparency=7)}, "transparency"),
        ({"answers": "not a dict"}, "answers"),
        ({"answers": position_answers(), "version": 999999}, "version"),
        ({"answers": position_answers(), "use_case": 999999}, "use_case"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(payload, key, api_client_for, governance_lead):
    response = api_client_for(governance_lead).post(
        f"{BASE}ethics-answer-sets/", payload, format="json"
    )
    assert response.status_code == 400
    assert key in response.json()
    assert not EthicsAnswerSet.objects.exists()


def test_answering_a_superseded_version_is_a_400(api_client_for, governance_lead):
    v1 = ethics_version_current(scope="organisation")
    draft = ethics_version_draft_create(
        template=ethics_template_get(scope="organisation"), by=governance_lead
    )
    ethics_publish(version=draft, by=governance_lead)
    response = api_client_for(governance_lead).post(
        f"{BASE}ethics-answer-sets/",
        {"answers": position_answers(), "version": v1.pk},
        format="json",
    )
    assert response.status_code == 400 and "superseded" in str(response.json())


def test_use_case_answers_through_the_api(
    api_client_for, data_scientist, other_data_scientist, risk_officer, team
):
    use_case = UseCaseFactory(team=team)
    url = f"{BASE}ethics-answer-sets/"
    payload = {"use_case": use_case.pk, "answers": use_case_answers(aspects=["bias"])}
    for user in (other_data_scientist, risk_officer):
        assert api_client_for(user).post(url, payload, format="json").status_code == 403
    response = api_client_for(data_scientist).post(url, payload, format="json")
    assert response.status_code == 201
    assert response.json()["scope"] == "use_case"
    listed = api_client_for(risk_officer).get(url, {"use_case": use_case.pk}).json()
    assert [s["id"] for s in listed["results"]] == [response.json()["id"]]
    assert api_client_for(risk_officer).get(url, {"scope": "organisation"}).json()["count"] == 0
