"""The governance API through APIClient: classifying a use case, the questionnaire
and rules catalogue, token and session authentication."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.models import Classification, RiskQuestion
from inventory.models import Regulation
from tests.factories import PASSWORD, UseCaseFactory, full_answers

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def use_case(team):
    use_case = UseCaseFactory(name="Hiring screen", team=team, uses_pii=True)
    use_case.regulations.set(Regulation.objects.filter(code="gdpr"))
    return use_case


def classify_url(use_case):
    return f"{API}/use-cases/{use_case.pk}/classification/"


# --- Classification ----------------------------------------------------------------


def test_classifying_records_the_class_with_its_reasons(use_case, risk_officer, api_client_for):
    answers = full_answers(audience="customers", error_impact=["personal"])
    response = api_client_for(risk_officer).post(
        classify_url(use_case), {"answers": answers, "note": "Annual review."}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["criticality"], data["risk_tier"], data["risk_tier_label"]) == (1, 4, "Critical")
    assert data["classified_by"] == "risk" and data["note"] == "Annual review."
    assert data["answers"]["regulations"] == ["gdpr"] and data["answers"]["uses_pii"] is True
    decisive = [r for r in data["reasons"] if r["decisive"]]
    assert [r["rule"] for r in decisive] == ["Public-facing decisions about people"]
    assert {t["question"] for t in decisive[0]["triggered_by"]} == {
        "Who consumes the results?",
        "What would an error affect?",
    }
    classification = Classification.objects.get()
    assert classification.pk == data["id"] and classification.reasons
    use_case.refresh_from_db()
    assert (use_case.criticality, use_case.risk_tier) == (1, 4)


def test_latest_classification_and_history(use_case, data_scientist, auditor, api_client_for):
    assert api_client_for(auditor).get(classify_url(use_case)).status_code == 404
    client = api_client_for(data_scientist)
    client.post(classify_url(use_case), {"answers": full_answers()}, format="json")
    client.post(
        classify_url(use_case),
        {"answers": full_answers(availability="realtime")},
        format="json",
    )
    latest = api_client_for(auditor).get(classify_url(use_case)).json()
    assert latest["criticality"] == 4 and latest["previous_criticality"] == 1
    assert latest["changed"] is True
    history = api_client_for(auditor).get(f"{API}/use-cases/{use_case.pk}/classifications/")
    assert history.status_code == 200
    body = history.json()
    assert body["count"] == 2
    assert [c["criticality"] for c in body["results"]] == [4, 1]
    listed = api_client_for(auditor).get(f"{API}/use-cases/{use_case.pk}/").json()
    assert listed["latest_classification"]["id"] == latest["id"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"answers": {**full_answers(), "bogus": "x"}}, {"answers": {"bogus"}}),
        ({"answers": full_answers(audience="martians")}, {"answers": {"audience"}}),
        ({"answers": full_answers(audience=["public"])}, {"answers": {"audience"}}),
        ({"answers": full_answers(error_impact="legal")}, {"answers": {"error_impact"}}),
        ({"answers": full_answers(error_impact=["legal", "legal"])}, {"answers": {"error_impact"}}),
        ({"answers": full_answers(error_impact=[{"a": 1}])}, {"answers": {"error_impact"}}),
        ({"answers": full_answers(audience=None)}, {"answers": {"audience"}}),
        ({"answers": {}}, {"answers": {"audience", "availability"}}),
        ({"answers": []}, {"answers": None}),
        ({"answers": "audience=public"}, {"answers": None}),
        ({"answers": None}, {"answers": None}),
        ({}, {"answers": None}),
        ({"answers": full_answers(), "note": "n" * 501}, {"note": None}),
        ({"answers": full_answers(), "note": ["x"]}, {"note": None}),
    ],
)
def test_bad_answers_are_400_with_field_errors_and_nothing_written(
    use_case, data_scientist, api_client_for, body, errors
):
    response = api_client_for(data_scientist).post(classify_url(use_case), body, format="json")
    assert response.status_code == 400, response.content
    detail = response.json()
    for field, keys in errors.items():
        assert field in detail
        if keys:
            assert keys <= set(detail[field])
    assert not Classification.objects.exists()
    use_case.refresh_from_db()
    assert use_case.risk_tier is None


def test_answers_for_questions_read_from_the_use_case_are_ignored(
    use_case, data_scientist, api_client_for
):
    answers = full_answers(regulations=["eu-ai-act"], uses_pii=False)
    response = api_client_for(data_scientist).post(
        classify_url(use_case), {"answers": answers}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["answers"]["regulations"] == ["gdpr"]


def test_classifying_an_unknown_use_case_is_404(risk_officer, api_client_for):
    response = api_client_for(risk_officer).post(
        f"{API}/use-cases/999999/classification/", {"answers": full_answers()}, format="json"
    )
    assert response.status_code == 404


# --- Catalogue -------------------------------------------------------------------------


def test_questionnaire_lists_options_and_regulation_codes(auditor, api_client_for):
    data = api_client_for(auditor).get(f"{API}/risk-questions/").json()
    by_code = {q["code"]: q for q in data["results"]}
    assert list(by_code)[:6] == [
        "regulations",
        "uses_pii",
        "eu_ai_act_prohibited",
        "eu_ai_act_annex_iii",
        "sector_purpose",
        "audience",
    ]
    assert {o["code"] for o in by_code["regulations"]["options"]} == set(
        Regulation.objects.values_list("code", flat=True)
    )
    assert by_code["regulations"]["asked"] is False
    assert by_code["audience"]["asked"] is True
    assert [o["code"] for o in by_code["audience"]["options"]] == [
        "public",
        "customers",
        "internal_many",
        "internal_team",
    ]
    assert by_code["uses_pii"]["options"] == []
    assert data["count"] == RiskQuestion.objects.count()


def test_rules_list_their_conditions(auditor, api_client_for):
    data = api_client_for(auditor).get(f"{API}/risk-rules/").json()
    rule = next(r for r in data["results"] if r["name"] == "Public-facing decisions about people")
    assert rule["min_tier"] == 4 and rule["min_tier_label"] == "Critical"
    assert rule["min_criticality"] is None and rule["min_criticality_label"] is None
    assert rule["conditions"] == [
        {
            "question": "audience",
            "operator": "any_of",
            "operator_label": "is any of",
            "values": ["public", "customers"],
        },
        {
            "question": "error_impact",
            "operator": "includes_any",
            "operator_label": "includes any of",
            "values": ["personal"],
        },
    ]


def test_regulations_and_teams(team, auditor, api_client_for):
    client = api_client_for(auditor)
    regulations = client.get(f"{API}/regulations/?search=gdpr").json()["results"]
    assert [r["code"] for r in regulations] == ["gdpr", "gdpr-art-22"]
    assert regulations[0]["area_label"] == "Data privacy"
    teams = client.get(f"{API}/teams/").json()["results"]
    assert teams == [{"id": team.pk, "name": "Credit risk", "slug": "credit-risk"}]


# --- Authentication ------------------------------------------------------------------


def test_pipeline_obtains_a_token_and_uses_it(data_scientist):
    client = APIClient()
    response = client.post(
        f"{API}/auth/token/", {"username": "ds", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expires"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/use-cases/").status_code == 200
    # The secret is stored hashed, so it cannot be handed out again: a second call
    # issues a second token, and both work until they expire.
    again = APIClient().post(f"{API}/auth/token/", {"username": "ds", "password": PASSWORD})
    assert again.status_code == 200
    assert again.json()["token"] != token
    assert client.get(f"{API}/use-cases/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ds", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "ds"},
        {},
    ],
)
def test_bad_credentials_give_400(data_scientist, body):
    response = APIClient().post(f"{API}/auth/token/", body, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_wrong_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get(f"{API}/use-cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_browser_session_works_and_csrf_is_enforced(use_case, data_scientist):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="ds", password=PASSWORD)
    assert client.get(f"{API}/use-cases/").status_code == 200
    url = classify_url(use_case)
    body = {"answers": full_answers()}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/accounts/login/")  # sets the CSRF cookie, as any page does
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert Classification.objects.count() == 1
