"""Issue 12, status follows reality: a use case's lifecycle status follows its versions'
environments. Nobody sets it by hand (page, API, admin) to what the records contradict:
a use case with nothing in production declared "production", or one running in
production declared "retired". Each refusal is a 400 with the reason, nothing written."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from inventory.models import UseCase
from inventory.services import model_version_move, model_version_register
from tests.factories import MLModelFactory, ModelVersionFactory, UseCaseFactory
from tests.inventory.test_admin import use_case_data
from tests.inventory.test_views import use_case_post_data


@pytest.fixture
def in_dev(team, data_scientist):
    version = ModelVersionFactory(model__use_case__team=team, model__use_case__status="development")
    return version.model.use_case


@pytest.fixture
def in_prod(team):
    version = ModelVersionFactory(
        model__use_case__team=team, model__use_case__status="production", environment="prod"
    )
    return version.model.use_case


def _unchanged(use_case, status):
    use_case.refresh_from_db()
    assert use_case.status == status


def test_api_refuses_production_for_a_use_case_with_nothing_in_production(
    data_scientist, api_client_for, in_dev
):
    response = api_client_for(data_scientist).patch(
        f"/api/v1/use-cases/{in_dev.pk}/", {"status": "production"}, format="json"
    )
    assert response.status_code == 400
    assert "cannot be production" in str(response.json()["status"])
    _unchanged(in_dev, "development")


def test_api_refuses_retiring_a_use_case_running_in_production(
    governance_lead, api_client_for, in_prod
):
    response = api_client_for(governance_lead).patch(
        f"/api/v1/use-cases/{in_prod.pk}/", {"status": "retired"}, format="json"
    )
    assert response.status_code == 400
    assert "in production" in str(response.json()["status"])
    _unchanged(in_prod, "production")


def test_the_page_refuses_a_status_the_records_contradict(data_scientist, client_for, in_dev, team):
    data = use_case_post_data(team, data_scientist, name=in_dev.name, status="validation")
    response = client_for(data_scientist).post(
        reverse("inventory:use-case-update", args=[in_dev.pk]), data
    )
    assert response.status_code == 400
    assert "cannot be validation" in response.content.decode()
    _unchanged(in_dev, "development")


def test_the_page_refuses_registering_a_use_case_already_in_production(
    data_scientist, client_for, team
):
    data = use_case_post_data(team, data_scientist, name="Shadow model", status="production")
    response = client_for(data_scientist).post(reverse("inventory:use-case-create"), data)
    assert response.status_code == 400
    assert not UseCase.objects.filter(name="Shadow model").exists()


def test_the_admin_refuses_a_status_the_records_contradict(client, governance_lead, in_prod):
    client.force_login(governance_lead)
    data = use_case_data(in_prod, status="idea")
    response = client.post(reverse("admin:inventory_usecase_change", args=[in_prod.pk]), data)
    assert response.status_code == 200  # the admin shows its form again with the error
    assert "cannot be idea" in response.content.decode()
    _unchanged(in_prod, "production")


def test_a_status_the_records_allow_is_accepted(data_scientist, api_client_for, in_dev):
    response = api_client_for(data_scientist).patch(
        f"/api/v1/use-cases/{in_dev.pk}/", {"status": "retired"}, format="json"
    )
    assert response.status_code == 200
    _unchanged(in_dev, "retired")


def test_the_status_follows_a_version_through_its_moves(in_dev):
    version = in_dev.ml_models.get().versions.get()
    for env, status in [("qa", "validation"), ("prod", "production"), ("retired", "retired")]:
        model_version_move(version=version, to_environment=env)
        _unchanged(in_dev, status)
    event = AuditEvent.objects.filter(object_type="inventory.usecase", object_id=str(in_dev.pk))
    assert event.filter(reason__startswith="The status follows the versions").count() == 3


def test_registering_a_version_moves_an_idea_into_development(data_scientist, team):
    use_case = UseCaseFactory(team=team, status="idea")
    model = MLModelFactory(use_case=use_case)
    model_version_register(
        by=data_scientist,
        model=model,
        version_label="0.1",
        artifact_uri="s3://m/0.1",
        artifact_sha256="a" * 64,
        framework="sklearn",
        training_data_ref="warehouse://x",
    )
    _unchanged(use_case, "development")
