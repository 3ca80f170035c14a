"""A registered model re-tagged in MLflow to another use case after its versions were
imported (issue 17): an imported (and signed) version never moves; the sync opens a
conflict (audited, on the run and on /mlflow/ with both use cases) and holds the model's
new versions until a governance lead decides where they go."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from inventory.models import MLModel, ModelVersion
from mlflow_sync.client import MLflowClient
from mlflow_sync.models import UseCaseConflict
from mlflow_sync.services import registry_sync
from mlflow_sync.tasks import registry_sync as registry_sync_task
from tests.factories import UseCaseFactory, signed_validation
from tests.outbox import queued

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("mlflow")]
TAG = "governance.use_case"


@pytest.fixture
def two_use_cases(team, unique):
    return (
        UseCaseFactory(team=team, name=unique("Credit scoring")),
        UseCaseFactory(team=team, name=unique("Credit limits")),
    )


def imported_then_retagged(mlflow_server, name, credit, limits, data_scientist):
    """Version 1 imported into ``credit`` and signed (version 2 waits: its tag names no
    use case yet); then the data scientist re-tags the model, version 1 itself and
    version 2 to ``limits`` (over MLflow's REST API)."""
    first, second = mlflow_server.steps(
        ("register", {"name": name, "model_tags": {TAG: credit.name}}),
        ("register", {"name": name, "payload": 2, "version_tags": {TAG: "not yet"}}),
    )
    assert registry_sync(by=data_scientist, trigger="command", registered_model=name).imported == 1
    signed = ModelVersion.objects.get(model__name=name)
    signed_validation(signed)
    mlflow = MLflowClient(mlflow_server.url)
    mlflow.call(
        "/api/2.0/mlflow/registered-models/set-tag",
        body={"name": name, "key": TAG, "value": limits.name},
    )
    for number in (first["version"], second["version"]):
        mlflow.set_version_tag(name, number, TAG, limits.name)
    return signed, first["version"], second["version"]


def test_a_retagged_model_moves_nothing_and_waits_for_a_governance_lead(
    mlflow_server, mlflow_settings, two_use_cases, data_scientist, governance_lead, client, unique
):
    credit, limits = two_use_cases
    name = unique("scorecard")
    signed, _, held = imported_then_retagged(mlflow_server, name, credit, limits, data_scientist)

    run = registry_sync(by=data_scientist, trigger="command", registered_model=name)

    signed.refresh_from_db()
    assert signed.model.use_case == credit
    assert not MLModel.objects.filter(use_case=limits).exists()
    assert not ModelVersion.objects.filter(model__name=name, version_label=held).exists()
    assert run.imported == 0
    assert run.conflicts == [{"model": name, "current": credit.name, "named": limits.name}]
    (skipped,) = run.skipped
    assert skipped["version"] == held and skipped["reason"].startswith("held")
    assert credit.name in skipped["reason"] and limits.name in skipped["reason"]
    conflict = UseCaseConflict.objects.get(registered_model=name)
    assert (conflict.current, conflict.named, conflict.is_open) == (credit, limits, True)
    opened = AuditEvent.objects.get(action="mlflow_use_case_conflict_opened")
    assert opened.actor_id == data_scientist.pk
    assert credit.name in opened.reason and limits.name in opened.reason

    # Another pass meets the same tag: no second conflict, nothing audited, still held.
    events = AuditEvent.objects.count()
    again = registry_sync(by=data_scientist, trigger="command", registered_model=name)
    assert (again.imported, again.unchanged, len(again.conflicts)) == (0, 1, 1)
    assert UseCaseConflict.objects.count() == 1
    assert AuditEvent.objects.count() == events

    # The data scientist sees the conflict with both use cases but cannot resolve it.
    url = reverse("mlflow_sync:conflict-resolve", args=[conflict.pk])
    client.force_login(data_scientist)
    page = client.get(reverse("mlflow_sync:registry")).content.decode()
    assert 'data-testid="mlflow-conflict"' in page
    assert credit.name in page and limits.name in page
    assert "mlflow-conflict-form" not in page
    assert client.post(url, {"resolution": "follow", "note": "mine"}).status_code == 403
    conflict.refresh_from_db()
    assert conflict.is_open

    # A governance lead: bad input is a 400 with nothing written, then a decision.
    client.force_login(governance_lead)
    assert "mlflow-conflict-form" in client.get(reverse("mlflow_sync:registry")).content.decode()
    assert client.post(url, {"resolution": "move-all", "note": "x"}).status_code == 400
    assert client.post(url, {"resolution": "keep", "note": "  "}).status_code == 400
    no_such = reverse("mlflow_sync:conflict-resolve", args=[conflict.pk + 1000])
    assert client.post(no_such, {"resolution": "keep", "note": "x"}).status_code == 404
    conflict.refresh_from_db()
    assert conflict.is_open and queued(registry_sync_task) == []

    answer = client.post(url, {"resolution": "keep", "note": "Same portfolio; tag fixed later."})

    assert answer.status_code == 302
    assert queued(registry_sync_task) == [
        {"trigger": "manual", "user_id": governance_lead.pk, "registered_model": name}
    ]
    resolved = AuditEvent.objects.get(action="mlflow_use_case_conflict_resolved")
    assert resolved.actor_id == governance_lead.pk
    assert resolved.reason == "Same portfolio; tag fixed later."
    assert client.post(url, {"resolution": "follow", "note": "again"}).status_code == 400

    after = registry_sync(by=data_scientist, trigger="command", registered_model=name)

    assert (after.imported, after.conflicts) == (1, [])
    assert ModelVersion.objects.get(model__name=name, version_label=held).model.use_case == credit
    signed.refresh_from_db()
    assert signed.model.use_case == credit


def test_follow_sends_new_versions_to_the_tagged_use_case_and_leaves_the_signed_one(
    mlflow_server, mlflow_settings, two_use_cases, data_scientist, governance_lead, client, unique
):
    credit, limits = two_use_cases
    name = unique("limits-model")
    signed, _, held = imported_then_retagged(mlflow_server, name, credit, limits, data_scientist)
    registry_sync(by=data_scientist, trigger="command", registered_model=name)
    conflict = UseCaseConflict.objects.get(registered_model=name)
    client.force_login(governance_lead)
    client.post(
        reverse("mlflow_sync:conflict-resolve", args=[conflict.pk]),
        {"resolution": "follow", "note": "The model now serves the limits use case."},
    )

    after = registry_sync(by=data_scientist, trigger="command", registered_model=name)

    assert (after.imported, after.conflicts, after.skipped) == (1, [], [])
    assert ModelVersion.objects.get(model__name=name, version_label=held).model.use_case == limits
    signed.refresh_from_db()
    assert signed.model.use_case == credit
    assert UseCaseConflict.objects.count() == 1
