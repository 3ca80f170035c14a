"""Issue 12, item 4: classification trusts the developer's word; nobody from the second
line confirms it. Each route tried as the person it constrains, through the API and the
page: refused, nothing written."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import Classification, ClassificationConfirmation
from governance.selectors.classification import (
    classification_blocking,
    classification_confirmation_for,
)
from governance.services import classification_submit, use_cases_reclassify
from inventory.choices import RiskTier
from inventory.models import Regulation
from tests.factories import (
    PASSWORD,
    DatasetColumnFactory,
    DatasetFactory,
    ModelVersionFactory,
    UseCaseFactory,
    full_answers,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
HIGH = full_answers(audience="customers", error_impact=["personal"])  # Critical tier


@pytest.fixture
def loan(team, data_scientist):
    """A consumer loan use case on a dataset with PII columns, declared "uses PII: no"."""
    dataset = DatasetFactory(name="loan_book", team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="national_id", is_pii=True)
    DatasetColumnFactory(dataset=dataset, name="income", is_pii=True)
    use_case = UseCaseFactory(name="Consumer loans", team=team, uses_pii=False)
    use_case.datasets.set([dataset])
    return use_case


def session_api(user):
    client = APIClient()
    client.force_login(user)
    return client


# --- Facts cross-checked -------------------------------------------------------------


def test_pii_contradiction_is_refused_through_the_api(loan, data_scientist, api_client_for):
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{loan.pk}/classification/", {"answers": full_answers()}, format="json"
    )
    assert response.status_code == 400
    assert "national_id" in str(response.json()) and "uses_pii" in str(response.json())
    assert not Classification.objects.filter(use_case=loan).exists()
    loan.refresh_from_db()
    assert loan.risk_tier is None
    refused = AuditEvent.objects.get(action="classification.refused")
    assert refused.object_id == str(loan.pk) and "PII columns" in refused.reason


def test_pii_contradiction_is_refused_on_the_page(loan, data_scientist, client_for):
    data = {k: v for k, v in full_answers().items() if v != []}
    response = client_for(data_scientist).post(
        reverse("governance:use-case-classify", args=[loan.pk]), data
    )
    assert response.status_code == 400
    assert "PII columns" in response.content.decode()
    assert not Classification.objects.filter(use_case=loan).exists()


def test_a_pii_dataset_attached_after_classification_blocks_the_move(
    team, data_scientist, api_client_for
):
    """The Low, 0-signature auto-approval of the issue: the request is not approved
    while the data contradicts the answers."""
    use_case = UseCaseFactory(team=team, uses_pii=False)
    classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    dataset = DatasetFactory(team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="email", is_pii=True)
    use_case.datasets.add(dataset)
    version = ModelVersionFactory(model__use_case=use_case, authors=[data_scientist])
    response = api_client_for(data_scientist).post(
        f"{API}/promotion-requests/",
        {"model_version": version.pk, "justification": "ship it"},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    version.refresh_from_db()
    assert version.environment == "dev"  # not auto-approved
    assert "classification:pii-undeclared" in str(response.json())


def test_article_5_practice_blocks_the_classification(team, data_scientist, api_client_for):
    use_case = UseCaseFactory(team=team)
    answers = full_answers(eu_ai_act_prohibited=["social_scoring"])
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{use_case.pk}/classification/", {"answers": answers}, format="json"
    )
    assert response.status_code == 400
    assert "Article 5" in str(response.json())
    assert not Classification.objects.filter(use_case=use_case).exists()


def test_annex_iii_area_adds_the_eu_ai_act_and_raises_the_tier(
    team, data_scientist, api_client_for
):
    use_case = UseCaseFactory(team=team)
    answers = full_answers(eu_ai_act_annex_iii=["essential_services"])
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{use_case.pk}/classification/", {"answers": answers}, format="json"
    )
    assert response.status_code == 201
    use_case.refresh_from_db()
    assert "eu-ai-act" in set(use_case.regulations.values_list("code", flat=True))
    assert use_case.risk_tier == RiskTier.CRITICAL
    assert "eu-ai-act" in response.json()["answers"]["regulations"]


# --- Regulations implied by the sector and purpose ---------------------------------------


def regulation_codes(use_case) -> set[str]:
    return set(use_case.regulations.values_list("code", flat=True))


@pytest.mark.parametrize(
    "option, implied",
    [
        ("bank_credit", {"sr-11-7", "pra-ss1-23"}),
        ("bank_stress_test", {"sr-11-7", "pra-ss1-23", "pra-ss3-18"}),
        ("pharma_clinical", {"gxp", "fda-21-cfr-part-11"}),
        ("automated_individual_decisions", {"gdpr-art-22"}),
    ],
)
def test_a_sector_that_implies_regulations_adds_those_the_developer_left_out(
    option, implied, team, data_scientist, api_client_for
):
    """Declared: no regulation at all. The answer about what the model is for adds the
    regulations it implies, says why in the classification, and the rules they trigger
    raise the class."""
    use_case = UseCaseFactory(team=team)
    answers = full_answers(sector_purpose=[option])
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{use_case.pk}/classification/", {"answers": answers}, format="json"
    )
    assert response.status_code == 201, response.content
    use_case.refresh_from_db()
    assert implied <= regulation_codes(use_case)
    assert implied <= set(response.json()["answers"]["regulations"])
    classification = Classification.objects.get(use_case=use_case)
    assert "Regulations implied by the answers and added" in classification.note
    assert "Sector and purpose" in classification.note
    assert classification.risk_tier > RiskTier.LOW  # the regulation rules raised it
    events = AuditEvent.objects.filter(object_id=str(use_case.pk), reason__contains="Sector")
    assert events.exists()


def test_declared_regulations_are_kept_and_only_the_missing_one_is_added(
    team, data_scientist, api_client_for
):
    use_case = UseCaseFactory(team=team)
    use_case.regulations.set(Regulation.objects.filter(code="pra-ss1-23"))
    response = api_client_for(data_scientist).post(
        f"{API}/use-cases/{use_case.pk}/classification/",
        {"answers": full_answers(sector_purpose=["bank_credit"])},
        format="json",
    )
    assert response.status_code == 201
    use_case.refresh_from_db()
    assert regulation_codes(use_case) == {"pra-ss1-23", "sr-11-7"}


def test_the_page_adds_the_implied_regulations_too(team, data_scientist, client_for):
    use_case = UseCaseFactory(team=team)
    data = {k: v for k, v in full_answers().items() if v != []}
    data["sector_purpose"] = ["pharma_clinical"]
    response = client_for(data_scientist).post(
        reverse("governance:use-case-classify", args=[use_case.pk]), data
    )
    assert response.status_code in (200, 302), response.content[:500]
    use_case.refresh_from_db()
    assert {"gxp", "fda-21-cfr-part-11"} <= regulation_codes(use_case)
    assert "Sector and purpose" in Classification.objects.get(use_case=use_case).note


def test_removing_an_implied_regulation_afterwards_does_not_stick(
    team, data_scientist, api_client_for
):
    """The developer drops SR 11-7 from the use case after classifying it as a bank's
    credit model: the re-classification its change triggers adds it back."""
    use_case = UseCaseFactory(team=team)
    client = api_client_for(data_scientist)
    client.post(
        f"{API}/use-cases/{use_case.pk}/classification/",
        {"answers": full_answers(sector_purpose=["bank_credit"])},
        format="json",
    )
    response = client.patch(
        f"{API}/use-cases/{use_case.pk}/", {"regulations": ["pra-ss1-23"]}, format="json"
    )
    assert response.status_code == 200, response.content
    use_case.refresh_from_db()
    assert "sr-11-7" in regulation_codes(use_case)


# --- The second line confirms High and Critical ------------------------------------------


@pytest.fixture
def critical(team, data_scientist):
    use_case = UseCaseFactory(team=team)
    use_case.regulations.set(Regulation.objects.filter(code="gdpr"))
    classification_submit(use_case=use_case, answers=HIGH, by=data_scientist)
    use_case.refresh_from_db()
    assert use_case.risk_tier == RiskTier.CRITICAL
    return use_case


def codes(use_case, env="prod"):
    return [code for code, _ in classification_blocking(use_case, env)]


def test_unconfirmed_critical_blocks_past_qa_only(critical):
    assert codes(critical, "qa") == []
    assert codes(critical, "preprod") == ["classification:unconfirmed"]
    assert codes(critical, "prod") == ["classification:unconfirmed"]


def test_gate_blocks_an_unconfirmed_critical_classification(
    critical, data_scientist, api_client_for
):
    version = ModelVersionFactory(model__use_case=critical, authors=[data_scientist])
    response = api_client_for(data_scientist).post(
        f"{API}/gate/", {"model_version": version.pk, "environment": "prod"}, format="json"
    )
    assert response.json()["allowed"] is False
    assert "classification:unconfirmed" in [r["code"] for r in response.json()["reasons"]]


@pytest.mark.parametrize("who", ["data_scientist", "governance_lead", "approver", "auditor"])
def test_only_a_risk_officer_confirms(request, who, critical, client_for):
    user = request.getfixturevalue(who)
    api = session_api(user).post(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/",
        {"password": PASSWORD},
        format="json",
    )
    page = client_for(user).post(
        reverse("governance:use-case-classification-confirm", args=[critical.pk]),
        {"password": PASSWORD},
    )
    assert (api.status_code, page.status_code) == (403, 403)
    assert not ClassificationConfirmation.objects.exists()


def test_a_governance_lead_confirming_is_refused_and_audited(critical, governance_lead):
    response = session_api(governance_lead).post(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/",
        {"password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="classification.confirm_refused", actor=governance_lead
    ).exists()


def test_a_token_never_confirms(critical, risk_officer, api_client_for):
    response = api_client_for(risk_officer).post(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/",
        {"password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    assert "token" in str(response.json()).lower()
    assert not ClassificationConfirmation.objects.exists()
    assert AuditEvent.objects.filter(
        action="classification.confirm_refused", actor=risk_officer
    ).exists()


def test_a_wrong_password_is_refused_and_audited(critical, risk_officer, client_for):
    api = session_api(risk_officer).post(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/",
        {"password": "guess"},
        format="json",
    )
    page = client_for(risk_officer).post(
        reverse("governance:use-case-classification-confirm", args=[critical.pk]),
        {"password": "guess"},
    )
    assert (api.status_code, page.status_code) == (400, 400)
    assert not ClassificationConfirmation.objects.exists()
    assert AuditEvent.objects.filter(action="classification.password_refused").count() == 2


def test_the_risk_officer_who_classified_cannot_confirm_it(critical, risk_officer, client_for):
    classification_submit(use_case=critical, answers=HIGH, by=risk_officer)
    response = client_for(risk_officer).post(
        reverse("governance:use-case-classification-confirm", args=[critical.pk]),
        {"password": PASSWORD},
    )
    assert response.status_code == 403
    assert not ClassificationConfirmation.objects.exists()


def test_confirmation_unblocks_and_a_developer_reclassifying_voids_it(
    critical, risk_officer, data_scientist, governance_lead, client_for
):
    response = client_for(risk_officer).post(
        reverse("governance:use-case-classification-confirm", args=[critical.pk]),
        {"password": PASSWORD, "note": "Agreed: decisions about customers."},
    )
    assert response.status_code == 302
    confirmation = ClassificationConfirmation.objects.get()
    assert confirmation.confirmed_by == risk_officer
    assert AuditEvent.objects.filter(action="classification.confirmed").exists()
    assert codes(critical) == []
    page = client_for(data_scientist).get(reverse("dashboard:use-case-detail", args=[critical.pk]))
    assert "Confirmed by" in page.content.decode()
    # A re-evaluation that keeps the answers and the tier (a rule change approved by two
    # leads, the same answers submitted again) changes nothing the risk officer signed.
    classification_submit(use_case=critical, answers=HIGH, by=data_scientist)
    use_cases_reclassify(by=governance_lead, note="Rules changed.")
    assert classification_confirmation_for(use_case=critical) == confirmation
    assert codes(critical) == []
    # The developer changes an answer: the confirmation stops counting.
    changed = dict(HIGH, release_cadence="weekly")
    classification_submit(use_case=critical, answers=changed, by=data_scientist)
    critical.refresh_from_db()
    assert classification_confirmation_for(use_case=critical) is None
    assert codes(critical) == ["classification:unconfirmed"]
    response = session_api(risk_officer).get(
        f"{API}/use-cases/{critical.pk}/classification-confirmation/"
    )
    assert response.json()["confirmation"] is None and response.json()["needed"] is True


def test_a_governance_lead_cannot_waive_the_confirmation_away(
    critical, data_scientist, governance_lead, api_client_for
):
    """The request lists the missing confirmation as a blocking item; a lead's waiver
    cannot stand in for the risk officer's signed act (the gate would refuse anyway)."""
    from reviews.models import BlockingWaiver
    from reviews.services import promotion as svc

    version = ModelVersionFactory(
        model__use_case=critical, authors=[data_scientist], environment="qa"
    )
    req = svc.request_create(version=version, by=data_scientist, justification="To preprod.")
    response = api_client_for(governance_lead).post(
        f"{API}/promotion-requests/{req.pk}/waive/",
        {"code": "classification:unconfirmed", "reason": "Urgent release."},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "risk officer" in str(response.json())
    assert not BlockingWaiver.objects.filter(request=req).exists()
