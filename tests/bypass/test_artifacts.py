"""Issue 12, item 7: anyone could block another team's deployment by registering a
version with the same artifact SHA-256 (the SHA-only gate call then answered
``ambiguous-artifact``). Tried as the other team, through the API, the page and the
admin: refused, nothing written, and the first team's gate answer unchanged."""

import pytest
from django.urls import reverse

from inventory.models import ArtifactLink, ModelVersion
from tests.factories import MLModelFactory, ModelVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
SHA = "c" * 64


@pytest.fixture
def ours(team, data_scientist):
    return ModelVersionFactory(
        model__use_case=UseCaseFactory(team=team), artifact_sha256=SHA, authors=[data_scientist]
    )


@pytest.fixture
def their_model(other_team):
    return MLModelFactory(use_case=UseCaseFactory(team=other_team, name="Their use case"))


def payload(model_id, label="1.0"):
    return {
        "model": model_id,
        "version_label": label,
        "artifact_uri": "s3://theirs/model.pkl",
        "artifact_sha256": SHA,
        "framework": "sklearn",
    }


def gate(client, **body):
    return client.post(f"{API}/gate/", {"environment": "dev", **body}, format="json").json()


def test_another_team_cannot_register_our_sha_through_the_api(
    ours, their_model, other_data_scientist, data_scientist, api_client_for
):
    before = gate(api_client_for(data_scientist), artifact_sha256=SHA)
    response = api_client_for(other_data_scientist).post(
        f"{API}/model-versions/", payload(their_model.pk), format="json"
    )
    assert response.status_code == 400
    assert "already registered" in str(response.json())
    assert "governance lead" in str(response.json())
    assert not ModelVersion.objects.filter(model=their_model).exists()
    after = gate(api_client_for(data_scientist), artifact_sha256=SHA)
    assert after["model_version"] == before["model_version"] == ours.pk
    assert after["allowed"] == before["allowed"]
    assert "ambiguous-artifact" not in [r["code"] for r in after["reasons"]]


def test_another_team_cannot_register_our_sha_on_the_page(
    ours, their_model, other_data_scientist, client_for
):
    response = client_for(other_data_scientist).post(
        reverse("inventory:version-create", args=[their_model.pk]),
        {**payload(their_model.pk), "authors": [other_data_scientist.pk]},
    )
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert not ModelVersion.objects.filter(model=their_model).exists()


def test_a_data_scientist_cannot_link_an_artifact(
    ours, their_model, data_scientist, other_data_scientist, client_for
):
    for user in (data_scientist, other_data_scientist):
        response = client_for(user).post(
            reverse("admin:inventory_artifactlink_add"),
            {"artifact_sha256": SHA, "model": their_model.pk, "reason": "same file"},
        )
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or "/login/" in response["Location"]
    assert not ArtifactLink.objects.exists()


def test_a_governance_lead_links_then_the_gate_is_asked_by_model_and_sha(
    ours,
    their_model,
    governance_lead,
    other_data_scientist,
    data_scientist,
    client_for,
    api_client_for,
):
    response = client_for(governance_lead).post(
        reverse("admin:inventory_artifactlink_add"),
        {"artifact_sha256": SHA, "model": their_model.pk, "reason": "Shared vendor model"},
    )
    assert response.status_code == 302
    link = ArtifactLink.objects.get()
    assert link.linked_by == governance_lead
    registered = api_client_for(other_data_scientist).post(
        f"{API}/model-versions/", payload(their_model.pk), format="json"
    )
    assert registered.status_code == 201
    client = api_client_for(data_scientist)
    # SHA alone is ambiguous now (a governance lead's decision), but by model or by
    # version our answer is ours.
    assert "ambiguous-artifact" in [r["code"] for r in gate(client, artifact_sha256=SHA)["reasons"]]
    by_model = gate(client, artifact_sha256=SHA, model=ours.model_id)
    assert by_model["model_version"] == ours.pk
    assert "ambiguous-artifact" not in [r["code"] for r in by_model["reasons"]]
    by_version = gate(client, artifact_sha256=SHA, model_version=ours.pk)
    assert by_version["model_version"] == ours.pk


def test_gate_by_model_and_a_sha_it_does_not_carry_is_blocked(
    ours, their_model, data_scientist, api_client_for
):
    answer = gate(api_client_for(data_scientist), artifact_sha256=SHA, model=their_model.pk)
    assert answer["allowed"] is False
    assert [r["code"] for r in answer["reasons"]] == ["unknown-version"]
