"""Issue 12, item 9, the catalogue: one governance lead edited live framework content
in the admin site (a measure's machine-readable parameters, which
``policy_requirements_for`` reads live; a requirement's minimums; the questionnaire).

Walked as that lead: every admin edit only records a proposal, nothing of it takes
effect, the lead's own approval is refused (page and API), deleting is refused, and the
API has no write route; the change applies exactly as proposed when a second lead signs.
"""

import json
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from governance import tasks
from governance.models import (
    Consideration,
    FrameworkChange,
    FrameworkChangeDecision,
    Measure,
    Requirement,
    RequirementMinimum,
    RiskQuestion,
)
from governance.selectors.policy import policy_requirements_for
from inventory.choices import RiskTier
from notifications.models import JobMarker
from tests.factories import PASSWORD
from tests.governance.four_eyes import other_lead
from tests.governance.test_admin import question_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_workers():
    with (
        mock.patch.object(tasks.obligations_recompute_all, "delay"),
        mock.patch.object(tasks.use_cases_reclassify, "delay"),
    ):
        yield


@pytest.fixture
def admin_page(client_for, governance_lead):
    return client_for(governance_lead)


def measure_post(measure: Measure, **fields) -> dict:
    data = {
        "consideration": measure.consideration_id,
        "level": measure.level,
        "text": measure.text,
        "parameters": json.dumps(measure.parameters),
        "proposal_reason": "Tighter thresholds.",
    }
    return {**data, **fields}


def bias_measure() -> Measure:
    return Measure.objects.get(consideration__code="bias-harm-testing", level="medium")


def test_a_measure_edit_in_the_admin_is_only_a_proposal(admin_page, governance_lead):
    measure = bias_measure()
    before = dict(measure.parameters)
    loose = {**before, "four_fifths": 0.1} if "four_fifths" in before else {**before}
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    response = admin_page.post(
        url, measure_post(measure, text="Nothing to do.", parameters=json.dumps(loose))
    )
    assert response.status_code == 302
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    assert response["Location"] == reverse("governance:framework-change", args=[change.pk])
    measure.refresh_from_db()
    assert measure.text != "Nothing to do." and measure.parameters == before
    assert change.is_pending and change.content["fields"]["text"] == "Nothing to do."
    page = admin_page.get(response["Location"])
    assert page.status_code == 200 and "Nothing to do." in page.content.decode()
    # The lead's own approval is refused on the page and through the API.
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert admin_page.post(approve, {"password": PASSWORD}).status_code == 403
    api = APIClient()
    api.force_login(governance_lead)
    response = api.post(
        f"/api/v1/framework-changes/{change.pk}/approve/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.text != "Nothing to do."
    assert not FrameworkChangeDecision.objects.filter(change=change).exists()


def test_a_second_lead_applies_the_measure_exactly_as_proposed(
    admin_page, client_for, governance_lead
):
    measure = Measure.objects.get(consideration__code="transparency", level="strict")
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    admin_page.post(url, measure_post(measure, text="Rules written by hand, reviewed."))
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    second = client_for(other_lead())
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    response = second.post(approve, {"password": PASSWORD, "reason": "Agreed."})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.text == "Rules written by hand, reviewed."
    assert FrameworkChangeDecision.objects.get(change=change).outcome == "approved"
    # What is owed follows the catalogue: every use case's obligations are recomputed.
    assert JobMarker.objects.filter(task=tasks.obligations_recompute_all.name).exists()


def test_invalid_parameters_are_refused_before_anything_is_proposed(admin_page):
    measure = Measure.objects.get(consideration__code="human-signoff", level="medium")
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    response = admin_page.post(
        url, measure_post(measure, parameters='{"signoffs_per_move": "one"}')
    )
    assert response.status_code == 400 and b"must be a whole number" in response.content
    assert not FrameworkChange.objects.exists()


def test_a_requirement_minimum_lowered_in_the_admin_does_not_lower_what_is_owed(admin_page):
    minimum = RequirementMinimum.objects.select_related("requirement__regulation").first()
    requirement = minimum.requirement
    minimums = list(requirement.minimums.order_by("id"))
    owed = policy_requirements_for(
        tier=RiskTier.LOW, regulation_codes=[requirement.regulation.code]
    )
    data = {
        "regulation": requirement.regulation_id,
        "code": requirement.code,
        "text": requirement.text,
        "order": requirement.order,
        "proposal_reason": "Relax it.",
        "minimums-TOTAL_FORMS": str(len(minimums)),
        "minimums-INITIAL_FORMS": str(len(minimums)),
        "minimums-MIN_NUM_FORMS": "0",
        "minimums-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(minimums):
        data |= {
            f"minimums-{i}-id": m.pk,
            f"minimums-{i}-requirement": requirement.pk,
            f"minimums-{i}-consideration": m.consideration_id,
            f"minimums-{i}-min_level": m.min_level,
            f"minimums-{i}-DELETE": "on",
        }
    url = reverse("admin:governance_requirement_change", args=[requirement.pk])
    assert admin_page.post(url, data).status_code == 302
    assert requirement.minimums.count() == len(minimums)
    assert (
        policy_requirements_for(tier=RiskTier.LOW, regulation_codes=[requirement.regulation.code])
        == owed
    )
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    assert change.content["children"]["minimums"] == []


def test_a_question_edit_is_a_proposal_applied_by_a_second_lead(admin_page, governance_lead):
    from governance.services.framework_changes import framework_change_approve

    question = RiskQuestion.objects.get(code="audience")
    options = question.options.count()
    data = question_data(question, text="Who is affected?", proposal_reason="Plainer.")
    url = reverse("admin:governance_riskquestion_change", args=[question.pk])
    assert admin_page.post(url, data).status_code == 302
    question.refresh_from_db()
    assert question.text != "Who is affected?"
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    question.refresh_from_db()
    assert question.text == "Who is affected?" and question.options.count() == options


def test_an_inline_measure_edit_on_a_consideration_is_a_proposal(admin_page):
    consideration = Consideration.objects.get(code="bias-harm-testing")
    measures = list(consideration.measures.order_by("id"))
    data = {
        "name": consideration.name,
        "description": consideration.description,
        "order": consideration.order,
        "proposal_reason": "Drop the red team.",
        "measures-TOTAL_FORMS": str(len(measures)),
        "measures-INITIAL_FORMS": str(len(measures)),
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(measures):
        data |= {
            f"measures-{i}-id": m.pk,
            f"measures-{i}-consideration": consideration.pk,
            f"measures-{i}-level": m.level,
            f"measures-{i}-text": "None." if m.level == "strict" else m.text,
            f"measures-{i}-parameters": json.dumps(m.parameters),
        }
    url = reverse("admin:governance_consideration_change", args=[consideration.pk])
    assert admin_page.post(url, data).status_code == 302
    assert not Measure.objects.filter(consideration=consideration, text="None.").exists()
    assert FrameworkChange.objects.get(kind="catalogue_edit").is_pending


def test_a_change_made_meanwhile_voids_an_older_proposal(admin_page, governance_lead):
    from governance.services.framework_changes import framework_change_approve

    measure = Measure.objects.get(consideration__code="transparency", level="strict")
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    admin_page.post(url, measure_post(measure, text="First."))
    first = FrameworkChange.objects.get(kind="catalogue_edit")
    # The same row proposed again supersedes the first proposal.
    admin_page.post(url, measure_post(measure, text="Second."))
    first = FrameworkChange.objects.get(pk=first.pk)
    assert first.status == "superseded"
    second = FrameworkChange.objects.filter(kind="catalogue_edit").exclude(pk=first.pk).get()
    # The row changed behind the proposal's back (a data fix): nothing is applied.
    Measure.objects.filter(pk=measure.pk).update(text="Changed meanwhile.")
    with pytest.raises(Exception, match="changed since it was proposed"):
        framework_change_approve(change=second, by=other_lead(), password=PASSWORD)
    measure.refresh_from_db()
    assert measure.text == "Changed meanwhile."


@pytest.mark.parametrize(
    "name, model",
    [
        ("governance_measure", Measure),
        ("governance_requirement", Requirement),
        ("governance_riskquestion", RiskQuestion),
        ("governance_consideration", Consideration),
    ],
)
def test_catalogue_rows_cannot_be_deleted_in_the_admin(admin_page, name, model):
    obj = model.objects.first()
    url = reverse(f"admin:{name}_delete", args=[obj.pk])
    assert admin_page.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_an_unchanged_save_proposes_nothing(admin_page):
    measure = bias_measure()
    url = reverse("admin:governance_measure_change", args=[measure.pk])
    response = admin_page.post(url, measure_post(measure), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert not FrameworkChange.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/api/v1/considerations/", "/api/v1/regulation-requirements/", "/api/v1/risk-questions/"],
)
def test_the_api_has_no_write_route_for_the_catalogue(url, governance_lead):
    api = APIClient()
    api.force_login(governance_lead)
    assert api.post(url, {"code": "x"}, format="json").status_code in (403, 405)
    assert not FrameworkChange.objects.exists()


def test_the_default_raci_is_changed_by_proposal_only(admin_page):
    from governance.models import RaciRole, RaciTask, RaciTemplateCell

    task = RaciTask.objects.get(code="model-acceptance")
    cells = list(task.template_cells.order_by("id"))
    data = {
        "code": task.code,
        "name": task.name,
        "description": task.description,
        "order": task.order,
        "proposal_reason": "Data scientists accept their own models.",
        "template_cells-TOTAL_FORMS": str(len(cells)),
        "template_cells-INITIAL_FORMS": str(len(cells)),
        "template_cells-MIN_NUM_FORMS": "0",
        "template_cells-MAX_NUM_FORMS": "1000",
    }
    ds_role = RaciRole.objects.get(code="data-scientists")
    for i, cell in enumerate(cells):
        data |= {
            f"template_cells-{i}-id": cell.pk,
            f"template_cells-{i}-task": task.pk,
            f"template_cells-{i}-role": cell.role_id,
            f"template_cells-{i}-letters": "A" if cell.role_id == ds_role.pk else "I",
        }
    before = list(RaciTemplateCell.objects.values_list("role_id", "letters").order_by("id"))
    url = reverse("admin:governance_racitask_change", args=[task.pk])
    assert admin_page.post(url, data).status_code == 302
    after = list(RaciTemplateCell.objects.values_list("role_id", "letters").order_by("id"))
    assert after == before
    assert FrameworkChange.objects.get(kind="catalogue_edit").is_pending


# --- Regulations and RACI roles (issue 12, four eyes on the framework) -------------------


def regulation_post(regulation, **fields) -> dict:
    data = {
        "name": regulation.name,
        "area": regulation.area,
        "jurisdiction": regulation.jurisdiction,
        "description": regulation.description,
        "proposal_reason": "Clearer name.",
    }
    return {**data, **fields}


def test_a_regulation_renamed_in_the_admin_is_only_a_proposal(
    admin_page, client_for, governance_lead
):
    from audit.models import AuditEvent
    from inventory.models import Regulation

    regulation = Regulation.objects.get(code="sr-11-7")
    before = regulation.name
    url = reverse("admin:inventory_regulation_change", args=[regulation.pk])
    response = admin_page.post(url, regulation_post(regulation, name="Some US guidance"))
    assert response.status_code == 302
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    assert change.content["model"] == "inventory.regulation"
    regulation.refresh_from_db()
    assert regulation.name == before
    # The proposer's own approval is refused on the page and through the API.
    approve = reverse("governance:framework-change-approve", args=[change.pk])
    assert admin_page.post(approve, {"password": PASSWORD}).status_code == 403
    api = APIClient()
    api.force_login(governance_lead)
    response = api.post(
        f"/api/v1/framework-changes/{change.pk}/approve/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
    regulation.refresh_from_db()
    assert regulation.name == before and not FrameworkChangeDecision.objects.exists()
    # A second lead signs: applied exactly as proposed, and audited.
    second = client_for(other_lead())
    assert second.post(approve, {"password": PASSWORD, "reason": "Agreed."}).status_code == 302
    regulation.refresh_from_db()
    assert regulation.name == "Some US guidance"
    assert FrameworkChangeDecision.objects.get(change=change).outcome == "approved"
    assert AuditEvent.objects.filter(
        object_type="inventory.regulation", object_id=str(regulation.pk), action="update"
    ).exists()
    assert AuditEvent.objects.filter(action="framework_change.approved").exists()


def test_a_regulation_added_in_the_admin_is_only_a_proposal(admin_page):
    from inventory.models import Regulation

    url = reverse("admin:inventory_regulation_add")
    data = {
        "code": "local-mrm",
        "name": "Local model risk rule",
        "area": "finance",
        "jurisdiction": "",
        "description": "",
        "proposal_reason": "A local rule.",
    }
    assert admin_page.post(url, data).status_code == 302
    assert not Regulation.objects.filter(code="local-mrm").exists()
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    from governance.services.framework_changes import framework_change_approve

    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    assert Regulation.objects.filter(code="local-mrm", name="Local model risk rule").exists()


def test_a_raci_role_renamed_in_the_admin_is_only_a_proposal(admin_page, governance_lead):
    from governance.models import RaciRole
    from governance.services.framework_changes import framework_change_approve

    role = RaciRole.objects.get(code="risk-audit")
    before = role.name
    url = reverse("admin:governance_racirole_change", args=[role.pk])
    data = {
        "name": "Team leads",
        "level": role.level,
        "order": role.order,
        "proposal_reason": "Let the team sign.",
    }
    assert admin_page.post(url, data).status_code == 302
    role.refresh_from_db()
    assert role.name == before
    change = FrameworkChange.objects.get(kind="catalogue_edit")
    with pytest.raises(PermissionDenied):
        framework_change_approve(change=change, by=governance_lead, password=PASSWORD)
    role.refresh_from_db()
    assert role.name == before
    framework_change_approve(change=change, by=other_lead(), password=PASSWORD)
    role.refresh_from_db()
    assert role.name == "Team leads"


@pytest.mark.parametrize(
    "name, code",
    [("inventory_regulation", "sr-11-7"), ("governance_racirole", "risk-audit")],
)
def test_regulations_and_raci_roles_cannot_be_deleted_in_the_admin(admin_page, name, code):
    from governance.models import RaciRole
    from inventory.models import Regulation

    model = Regulation if name == "inventory_regulation" else RaciRole
    obj = model.objects.get(code=code)
    url = reverse(f"admin:{name}_delete", args=[obj.pk])
    assert admin_page.post(url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("url", ["/api/v1/regulations/", "/api/v1/raci-roles/"])
def test_the_api_has_no_write_route_for_regulations_or_roles(url, governance_lead):
    api = APIClient()
    api.force_login(governance_lead)
    assert api.post(url, {"code": "x", "name": "X"}, format="json").status_code in (403, 405)
    assert not FrameworkChange.objects.exists()
