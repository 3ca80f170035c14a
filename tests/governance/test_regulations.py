"""Regulations under their own names, each requirement mapped to the considerations
whose obligations satisfy it, and a use case's requirements with their evidence
(issue 12, item 12)."""

import pytest
from django.urls import reverse

from governance.models import Requirement, RiskRule
from governance.services import classification_submit
from inventory.models import Regulation
from tests.factories import UseCaseFactory, full_answers

pytestmark = pytest.mark.django_db
API = "/api/v1"


def test_ss3_18_and_ss1_23_are_apart():
    ss318 = Regulation.objects.get(code="pra-ss3-18")
    ss123 = Regulation.objects.get(code="pra-ss1-23")
    assert "SS3/18" in ss318.name and "stress" in ss318.name
    assert "SS1/23" in ss123.name
    assert Requirement.objects.filter(regulation=ss318).count() == 4
    texts = list(Requirement.objects.filter(regulation=ss123).values_list("text", flat=True))
    assert len(texts) == 5 and any("model risk mitigants" in t for t in texts)
    # The mislabelled rows now sit under SS3/18.
    assert not Requirement.objects.filter(
        code__in=["pra-ss1-23-effective-challenge", "pra-ss1-23-lifecycle"]
    ).exists()
    assert Requirement.objects.get(code="pra-ss3-18-effective-challenge").regulation == ss318


def test_new_regulations_each_have_mapped_requirements():
    for code in ("sr-11-7", "fda-21-cfr-part-11", "gdpr-art-22", "eu-ai-act"):
        requirements = Requirement.objects.filter(regulation__code=code)
        assert requirements.exists(), code
        assert all(r.minimums.exists() for r in requirements), code
    articles = Requirement.objects.filter(regulation__code="eu-ai-act").values_list(
        "text", flat=True
    )
    assert [t.split(":")[0] for t in articles] == [f"Art. {n}" for n in range(9, 16)]


def test_rules_name_the_regulations_by_their_own_names():
    rule = RiskRule.objects.get(name="Model risk management regulation")
    assert "SS3/18" in rule.explanation
    values = rule.conditions.get().values
    assert {"sr-11-7", "pra-ss1-23", "pra-ss3-18"} <= set(values)


@pytest.fixture
def regulated(team, data_scientist):
    use_case = UseCaseFactory(team=team, uses_pii=True)
    use_case.regulations.set(Regulation.objects.filter(code__in=["gdpr-art-22", "pra-ss1-23"]))
    classification_submit(use_case=use_case, answers=full_answers(), by=data_scientist)
    from governance.services import obligations_recompute

    obligations_recompute(use_case=use_case)
    return use_case


def test_the_api_lists_each_requirement_with_its_evidence(regulated, auditor, api_client_for):
    response = api_client_for(auditor).get(f"{API}/use-cases/{regulated.pk}/requirements/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {r["regulation"] for r in rows} == {"gdpr-art-22", "pra-ss1-23"}
    assert len(rows) == 3 + 5
    row = next(r for r in rows if r["requirement"] == "gdpr-art-22-human-intervention")
    assert row["met"] is False and row["state"] in ("open", "missing")
    evidence = row["evidence"][0]
    assert evidence["consideration"] == "human-signoff" and evidence["min_level"] == "medium"
    assert evidence["obligation"] is None or evidence["obligation"]["status"] == "open"


def test_the_use_case_page_shows_the_requirements(regulated, auditor, client_for):
    page = client_for(auditor).get(reverse("dashboard:use-case-detail", args=[regulated.pk]))
    content = page.content.decode()
    assert "Regulatory requirements" in content
    assert "Principle 5: model risk mitigants" in content


def test_requirements_need_a_governance_role(regulated, no_role_user, api_client_for):
    response = api_client_for(no_role_user).get(f"{API}/use-cases/{regulated.pk}/requirements/")
    assert response.status_code == 403
