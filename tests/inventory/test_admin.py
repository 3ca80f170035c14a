"""The inventory's admin: every page answers for governance leads only, and writes go
through the same services as the pages and the API."""

import json
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.roles import Role
from governance import tasks
from governance.models import Classification
from governance.services import classification_submit
from inventory.models import (
    Dataset,
    DatasetColumn,
    MLModel,
    ModelVersion,
    Regulation,
    Team,
    UseCase,
)
from tests.factories import (
    DatasetColumnFactory,
    DatasetFactory,
    MLModelFactory,
    ModelVersionFactory,
    UseCaseFactory,
    full_answers,
    user_with_role,
)
from tests.outbox import published, queued

pytestmark = pytest.mark.django_db

SHA = "a" * 64


@pytest.fixture
def lead_client(client, governance_lead):
    client.force_login(governance_lead)
    return client


@pytest.fixture
def rows(team):
    version = ModelVersionFactory(model__use_case__team=team)
    DatasetColumnFactory(dataset__team=team)
    return {
        "team": team,
        "usecase": version.model.use_case,
        "mlmodel": version.model,
        "modelversion": version,
        "dataset": Dataset.objects.get(),
    }


# --- Who gets in ---------------------------------------------------------------------

MODELS = ["team", "usecase", "mlmodel", "modelversion", "dataset"]


@pytest.mark.parametrize("model", MODELS)
def test_list_add_and_change_pages_answer_for_a_governance_lead(lead_client, rows, model):
    for url in [
        reverse(f"admin:inventory_{model}_changelist"),
        reverse(f"admin:inventory_{model}_changelist") + "?q=a",
        reverse(f"admin:inventory_{model}_add"),
        reverse(f"admin:inventory_{model}_change", args=[rows[model].pk]),
    ]:
        assert lead_client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", MODELS)
def test_a_data_scientist_with_staff_status_gets_no_page(client, rows, data_scientist, model):
    data_scientist.is_staff = True
    data_scientist.save()
    client.force_login(data_scientist)
    for url in [
        reverse(f"admin:inventory_{model}_changelist"),
        reverse(f"admin:inventory_{model}_add"),
        reverse(f"admin:inventory_{model}_change", args=[rows[model].pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login"))


def test_list_filters_answer(lead_client, rows):
    use_case = rows["usecase"]
    for url in [
        reverse("admin:inventory_usecase_changelist") + "?risk_tier__exact=4&status__exact=idea",
        reverse("admin:inventory_usecase_changelist")
        + f"?regulations__id__exact={Regulation.objects.first().pk}",
        reverse("admin:inventory_modelversion_changelist") + "?environment__exact=dev",
        reverse("admin:inventory_dataset_changelist") + "?columns__is_pii__exact=1",
        reverse("admin:inventory_mlmodel_changelist")
        + f"?use_case__team__id__exact={use_case.team_id}",
    ]:
        response = lead_client.get(url)
        assert response.status_code == 200, url


# --- Use cases -----------------------------------------------------------------------


def use_case_data(use_case=None, **fields) -> dict:
    data = {
        "name": "Mortgage affordability",
        "team": "",
        "status": "development",
        "purpose": "Checks that mortgage repayments are affordable.",
        "restrictions": "",
        "business_owner": "",
        "technical_owner": "",
        "regulations": [],
        "datasets": [],
    }
    if use_case is not None:
        data.update(
            {
                "name": use_case.name,
                "team": use_case.team_id,
                "status": use_case.status,
                "purpose": use_case.purpose,
                "restrictions": use_case.restrictions,
                "business_owner": use_case.business_owner_id,
                "technical_owner": use_case.technical_owner_id,
                "regulations": list(use_case.regulations.values_list("pk", flat=True)),
                "datasets": list(use_case.datasets.values_list("pk", flat=True)),
            }
        )
        if use_case.uses_pii:
            data["uses_pii"] = "on"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_adding_a_use_case_goes_through_the_service(
    lead_client, governance_lead, team, data_scientist
):
    gdpr = Regulation.objects.get(code="gdpr")
    data = use_case_data(
        team=team.pk,
        business_owner=governance_lead.pk,
        technical_owner=data_scientist.pk,
        regulations=[gdpr.pk],
        uses_pii="on",
    )
    with mock.patch(
        "inventory.services.use_case_create", wraps=__import__("inventory").services.use_case_create
    ) as service:
        response = lead_client.post(reverse("admin:inventory_usecase_add"), data)
    assert response.status_code == 302
    service.assert_called_once()
    use_case = UseCase.objects.get(name="Mortgage affordability")
    assert use_case.created_by == governance_lead
    assert list(use_case.regulations.all()) == [gdpr]
    assert use_case.uses_pii
    assert response["Location"] == reverse("admin:inventory_usecase_changelist")


def test_changing_regulations_in_the_admin_re_classifies_the_use_case(
    lead_client, governance_lead, risk_officer
):
    use_case = UseCaseFactory()
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    eu_ai_act = Regulation.objects.get(code="eu-ai-act")
    data = use_case_data(use_case, regulations=[eu_ai_act.pk])
    response = lead_client.post(
        reverse("admin:inventory_usecase_change", args=[use_case.pk]), data, follow=True
    )
    assert response.status_code == 200
    assert "was re-classified" in response.content.decode()
    use_case.refresh_from_db()
    assert (use_case.criticality, use_case.risk_tier) == (1, 4)
    latest = use_case.classifications.first()
    assert latest.classified_by == governance_lead
    assert (latest.previous_risk_tier, latest.risk_tier) == (1, 4)
    assert "regulations" in latest.note
    assert use_case.classifications.count() == 2


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ValidationError({"name": "Refused by the service."}), "Refused by the service."),
        (ValidationError("A rule of the service."), "A rule of the service."),
        (PermissionDenied("You can only change your own team."), "your own team"),
    ],
)
def test_a_service_refusal_is_shown_on_the_form_and_writes_nothing(lead_client, error, shown):
    use_case = UseCaseFactory(name="Original name")
    data = use_case_data(use_case, name="New name")
    with mock.patch("inventory.services.use_case_update", side_effect=error):
        response = lead_client.post(
            reverse("admin:inventory_usecase_change", args=[use_case.pk]), data
        )
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert response.context["errors"]
    # The user's input is kept on the form.
    assert response.context["adminform"].form["name"].value() == "New name"
    use_case.refresh_from_db()
    assert use_case.name == "Original name"


def test_an_invalid_use_case_is_a_form_error(lead_client):
    before = UseCase.objects.count()
    response = lead_client.post(reverse("admin:inventory_usecase_add"), use_case_data())
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.keys() >= {"team", "business_owner"}
    assert UseCase.objects.count() == before


def test_the_re_evaluate_button_queues_the_task_after_commit(
    lead_client, governance_lead, django_capture_on_commit_callbacks
):
    url = reverse("admin:inventory_usecase_reevaluate")
    assert lead_client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(url)
    assert response.status_code == 302
    [kwargs] = published(tasks.use_cases_reclassify)
    assert kwargs["by_id"] == governance_lead.pk
    assert lead_client.get(reverse("admin:inventory_usecase_changelist")).status_code == 200


def test_the_re_evaluate_button_is_for_governance_leads_only(client, data_scientist):
    data_scientist.is_staff = True
    data_scientist.save()
    client.force_login(data_scientist)
    response = client.post(reverse("admin:inventory_usecase_reevaluate"))
    assert response.status_code == 302
    assert queued(tasks.use_cases_reclassify) == []


def test_the_use_case_page_links_to_its_classification_history(lead_client, risk_officer):
    use_case = UseCaseFactory()
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    response = lead_client.get(reverse("admin:inventory_usecase_change", args=[use_case.pk]))
    link = f"?use_case__id__exact={use_case.pk}"
    assert link in response.content.decode()
    history = lead_client.get(reverse("admin:governance_classification_changelist") + link)
    assert history.status_code == 200
    assert list(history.context["cl"].result_list) == list(
        Classification.objects.filter(use_case=use_case)
    )


# --- Models and versions -------------------------------------------------------------


def test_adding_and_describing_a_model_goes_through_the_services(lead_client, governance_lead):
    use_case = UseCaseFactory()
    response = lead_client.post(
        reverse("admin:inventory_mlmodel_add"),
        {"use_case": use_case.pk, "name": "scorecard", "description": "First cut."},
    )
    assert response.status_code == 302
    ml_model = MLModel.objects.get(name="scorecard")
    assert ml_model.created_by == governance_lead
    response = lead_client.post(
        reverse("admin:inventory_mlmodel_change", args=[ml_model.pk]),
        {"use_case": UseCaseFactory().pk, "name": "renamed", "description": "Second cut."},
    )
    assert response.status_code == 302
    ml_model.refresh_from_db()
    assert (ml_model.name, ml_model.use_case, ml_model.description) == (
        "scorecard",
        use_case,
        "Second cut.",
    )


def version_data(ml_model, author, **fields) -> dict:
    data = {
        "model": ml_model.pk,
        "version_label": "2.0",
        "artifact_uri": "s3://models/scorecard/2.0/model.pkl",
        "artifact_sha256": SHA.upper(),
        "framework": "scikit-learn 1.6",
        "training_dataset": "",
        "training_data_ref": "snapshot://applications@2.0",
        "metrics": json.dumps({"auc": 0.8}),
        "authors": [author.pk],
    }
    data.update(fields)
    return data


def test_registering_a_version_goes_through_the_service(
    lead_client, governance_lead, data_scientist
):
    ml_model = MLModelFactory()
    response = lead_client.post(
        reverse("admin:inventory_modelversion_add"), version_data(ml_model, data_scientist)
    )
    assert response.status_code == 302
    version = ModelVersion.objects.get(model=ml_model, version_label="2.0")
    assert version.registered_by == governance_lead
    assert version.artifact_sha256 == SHA  # normalised by the service
    assert list(version.authors.all()) == [data_scientist]


def test_invalid_metrics_refused_by_the_service_show_on_the_form(lead_client, data_scientist):
    ml_model = MLModelFactory()
    data = version_data(ml_model, data_scientist, metrics=json.dumps({"auc": "high"}))
    response = lead_client.post(reverse("admin:inventory_modelversion_add"), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "names and numbers" in str(form.errors["metrics"])
    assert not ModelVersion.objects.filter(model=ml_model).exists()


def test_a_duplicate_version_label_is_a_form_error(lead_client, data_scientist):
    version = ModelVersionFactory(version_label="2.0")
    data = version_data(version.model, data_scientist, artifact_sha256="b" * 64)
    response = lead_client.post(reverse("admin:inventory_modelversion_add"), data)
    assert response.status_code == 200
    assert response.context["errors"]
    assert ModelVersion.objects.filter(model=version.model).count() == 1


def test_a_registered_artifact_cannot_be_changed_only_metrics_added(lead_client, data_scientist):
    version = ModelVersionFactory(metrics={"auc": 0.8})
    sha, uri = version.artifact_sha256, version.artifact_uri
    data = version_data(
        version.model,
        data_scientist,
        artifact_sha256="c" * 64,
        artifact_uri="s3://elsewhere",
        metrics=json.dumps({"ks": 0.4}),
    )
    response = lead_client.post(
        reverse("admin:inventory_modelversion_change", args=[version.pk]), data
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.artifact_sha256, version.artifact_uri) == (sha, uri)
    assert version.metrics == {"auc": 0.8, "ks": 0.4}
    delete = reverse("admin:inventory_modelversion_delete", args=[version.pk])
    assert lead_client.post(delete, {"post": "yes"}).status_code == 403
    assert ModelVersion.objects.filter(pk=version.pk).exists()


# --- Datasets ------------------------------------------------------------------------


def dataset_data(team, owner, columns, dataset=None, **fields) -> dict:
    existing = list(dataset.columns.order_by("id")) if dataset else []
    data = {
        "name": "Applications",
        "team": team.pk,
        "owner": owner.pk,
        "description": "",
        "source": "core_banking.applications",
        "provenance": "Nightly extract.",
        "columns-TOTAL_FORMS": str(len(columns)),
        "columns-INITIAL_FORMS": str(len(existing)),
        "columns-MIN_NUM_FORMS": "0",
        "columns-MAX_NUM_FORMS": "1000",
    }
    for i, (name, data_type, is_pii, notes) in enumerate(columns):
        data.update(
            {
                f"columns-{i}-name": name,
                f"columns-{i}-data_type": data_type,
                f"columns-{i}-lineage_notes": notes,
            }
        )
        if is_pii:
            data[f"columns-{i}-is_pii"] = "on"
        if i < len(existing):
            data[f"columns-{i}-id"] = str(existing[i].pk)
            data[f"columns-{i}-dataset"] = str(dataset.pk)
    data.update(fields)
    return data


def test_adding_a_dataset_with_columns_goes_through_the_service(lead_client, team, data_scientist):
    columns = [
        ("customer_id", "string", True, "CRM key, tokenised."),
        ("income", "decimal", True, "Declared on the application."),
    ]
    with mock.patch(
        "inventory.services.dataset_create", wraps=__import__("inventory").services.dataset_create
    ) as service:
        response = lead_client.post(
            reverse("admin:inventory_dataset_add"), dataset_data(team, data_scientist, columns)
        )
    assert response.status_code == 302
    service.assert_called_once()
    dataset = Dataset.objects.get(name="Applications")
    assert list(dataset.columns.values_list("name", "is_pii", "lineage_notes")) == [
        ("customer_id", True, "CRM key, tokenised."),
        ("income", True, "Declared on the application."),
    ]


def test_duplicate_column_names_are_refused_and_nothing_is_written(
    lead_client, team, data_scientist
):
    columns = [("customer_id", "string", True, ""), ("customer_id", "string", False, "")]
    response = lead_client.post(
        reverse("admin:inventory_dataset_add"), dataset_data(team, data_scientist, columns)
    )
    assert response.status_code == 200
    assert response.context["errors"]
    assert not Dataset.objects.filter(name="Applications").exists()


def test_editing_a_dataset_replaces_its_columns_through_the_service(
    lead_client, team, data_scientist
):
    dataset = DatasetFactory(name="Applications", team=team, owner=data_scientist)
    DatasetColumnFactory(dataset=dataset, name="customer_id", is_pii=False)
    columns = [
        ("customer_id", "string", True, "Now flagged."),
        ("postcode", "string", True, "Added."),
    ]
    data = dataset_data(team, data_scientist, columns, dataset=dataset, provenance="Weekly.")
    response = lead_client.post(reverse("admin:inventory_dataset_change", args=[dataset.pk]), data)
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.provenance == "Weekly."
    assert list(dataset.columns.values_list("name", "is_pii")) == [
        ("customer_id", True),
        ("postcode", True),
    ]
    assert DatasetColumn.objects.filter(dataset=dataset).count() == 2


# --- Teams ---------------------------------------------------------------------------


def test_a_governance_lead_assigns_people_to_teams(lead_client, data_scientist):
    other = user_with_role(Role.DATA_SCIENTIST, username="ds-2")
    response = lead_client.post(
        reverse("admin:inventory_team_add"),
        {"name": "Pricing", "slug": "pricing", "members": [data_scientist.pk, other.pk]},
    )
    assert response.status_code == 302
    assert set(Team.objects.get(slug="pricing").members.all()) == {data_scientist, other}
