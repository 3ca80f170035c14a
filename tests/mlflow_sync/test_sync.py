"""The MLflow registry sync against a real `mlflow server` (issue 17): versions
registered through the MLflow client are imported into the inventory through its own
services, idempotently, with the SHA-256 of their artifact files."""

import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from inventory.models import MLModel, ModelVersion
from mlflow_sync.client import MLflowClient
from mlflow_sync.models import RegistryVersionLink, SyncRun
from mlflow_sync.services import alias_check, registry_sync
from mlflow_sync.tasks import registry_sync as registry_sync_task
from mlflow_sync.tasks import registry_sync_scheduled
from reviews.models import GateCall
from tests.factories import UseCaseFactory, user_with_role
from tests.outbox import queued

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("mlflow")]


def digest_on_disk(artifacts: Path, uri: str) -> str:
    """The artifact digest computed from the files MLflow stored, independently of the
    product's client: sha256 of "<file sha256>  <relative path>" lines in path order."""
    root = artifacts / urlparse(uri).path.strip("/")
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"
        for p in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix())
        if p.is_file()
    ]
    assert lines
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@pytest.fixture
def use_case(team, unique):
    return UseCaseFactory(team=team, name=unique("Credit scoring"))


@pytest.fixture
def sync_account(settings, data_scientist, mlflow_settings):
    settings.MLFLOW_SYNC_USERNAME = data_scientist.username
    return data_scientist


def test_import_registers_each_version_through_the_inventory(
    mlflow_server, mlflow_settings, use_case, data_scientist, unique
):
    name, untagged, unknown = unique("credit-model"), unique("untagged"), unique("unknown")
    tag = {"governance.use_case": use_case.name}
    first, second, stray, _ = mlflow_server.steps(
        (
            "register",
            {
                "name": name,
                "model_tags": tag,
                "model_description": "Scores",
                "payload": 1,
                "description": "first fit",
                "version_tags": {"stage": "candidate"},
            },
        ),
        ("register", {"name": name, "payload": 2}),
        ("register", {"name": untagged, "payload": 3}),
        ("register", {"name": unknown, "model_tags": {"governance.use_case": "9" * 30}}),
    )

    run = registry_sync(by=data_scientist, trigger=SyncRun.Trigger.COMMAND)

    assert run.status == SyncRun.Status.DONE
    assert run.imported == 2
    assert {"model": untagged, "version": stray["version"]} in [
        {k: s[k] for k in ("model", "version")} for s in run.skipped
    ]
    reason = next(s["reason"] for s in run.skipped if s["model"] == untagged)
    assert "governance.use_case" in reason and "not imported" in reason
    reason = next(s["reason"] for s in run.skipped if s["model"] == unknown)
    assert "names no use case" in reason
    model = MLModel.objects.get(use_case=use_case, name=name)
    assert model.description == "Scores"
    client = MLflowClient(mlflow_server.url)
    for answer in (first, second):
        version = ModelVersion.objects.get(model=model, version_label=answer["version"])
        uri = client.download_uri(name, answer["version"])
        assert version.artifact_uri == uri
        assert version.artifact_sha256 == digest_on_disk(mlflow_server.artifacts, uri)
        assert version.registered_by == data_scientist
        assert "python_function" in version.framework
        assert version.training_data_ref == f"MLflow run {answer['run_id']}"
        link = version.mlflow_link
        assert (link.registered_model, link.run_id, link.source) == (
            name,
            answer["run_id"],
            answer["source"],
        )
    link = RegistryVersionLink.objects.get(registered_model=name, mlflow_version=first["version"])
    assert link.description == "first fit"
    assert link.tags == {"stage": "candidate"}
    assert first["version"] != second["version"]
    assert not MLModel.objects.filter(name=untagged).exists()
    created = AuditEvent.objects.filter(object_type="inventory.modelversion", action="create")
    assert created.count() == 2
    assert {e.actor_id for e in created} == {data_scientist.pk}


def test_a_second_sync_creates_nothing_and_a_change_is_an_audited_update(
    mlflow_server, mlflow_settings, use_case, data_scientist, unique
):
    name = unique("churn")
    (registered,) = mlflow_server.steps(
        ("register", {"name": name, "version_tags": {"governance.use_case": str(use_case.pk)}}),
    )
    assert registry_sync(by=data_scientist, trigger="command", registered_model=name).imported == 1
    versions, events = ModelVersion.objects.count(), AuditEvent.objects.count()

    again = registry_sync(by=data_scientist, trigger="command", registered_model=name)

    assert (again.imported, again.updated, again.unchanged) == (0, 0, 1)
    assert ModelVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events

    mlflow_server.steps(
        (
            "set_version",
            {
                "name": name,
                "version": registered["version"],
                "description": "recalibrated",
                "tags": {"owner": "risk-lab"},
            },
        ),
    )
    changed = registry_sync(by=data_scientist, trigger="command", registered_model=name)

    assert (changed.imported, changed.updated) == (0, 1)
    link = RegistryVersionLink.objects.get(registered_model=name)
    assert link.description == "recalibrated"
    assert link.tags["owner"] == "risk-lab"
    update = AuditEvent.objects.get(object_type="mlflow_sync.registryversionlink", action="update")
    assert update.changes["description"] == ["", "recalibrated"]
    assert update.actor_id == data_scientist.pk
    assert ModelVersion.objects.count() == versions


def test_the_inventorys_controls_apply_to_the_sync(
    mlflow_server, mlflow_settings, use_case, other_data_scientist, unique
):
    """Registering for another team is refused to the sync as to a person: listed on
    the run with the inventory's reason, nothing written."""
    name = unique("fraud")
    mlflow_server.register(name, model_tags={"governance.use_case": use_case.name})

    run = registry_sync(by=other_data_scientist, trigger="command", registered_model=name)

    assert run.imported == 0
    assert "own team" in run.skipped[0]["reason"]
    assert not MLModel.objects.filter(name=name).exists()
    assert not RegistryVersionLink.objects.filter(registered_model=name).exists()


def test_mlflow_down_fails_the_run_with_the_reason_and_imports_nothing(settings, data_scientist):
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.MLFLOW_TIMEOUT_SECONDS = 2

    run = registry_sync(by=data_scientist, trigger="command")

    assert run.status == SyncRun.Status.FAILED
    assert "cannot be reached" in run.message
    assert not ModelVersion.objects.exists()


def test_the_command_and_the_queued_task_run_as_the_sync_account(
    mlflow_server, sync_account, use_case, unique, capsys
):
    name = unique("pricing")
    mlflow_server.register(name, model_tags={"governance.use_case": use_case.name})

    call_command("mlflow_sync", "--model", name)

    assert "1 imported" in capsys.readouterr().out
    assert registry_sync_task.run(trigger="webhook", registered_model=name)["status"] == "done"
    assert ModelVersion.objects.get(model__name=name).registered_by == sync_account


def test_beat_queues_a_pass_when_due_only(mlflow_settings, settings, data_scientist):
    settings.MLFLOW_SYNC_SECONDS = 600
    registry_sync_scheduled.run()
    assert queued(registry_sync_task) == [{"trigger": "schedule", "registered_model": ""}]
    SyncRun.objects.create(trigger=SyncRun.Trigger.SCHEDULE, started_by=data_scientist)
    from notifications.models import JobMarker

    JobMarker.objects.all().delete()
    assert registry_sync_scheduled.run() == ""
    assert queued(registry_sync_task) == []


def test_only_a_governance_lead_may_start_a_sync(
    client, mlflow_settings, governance_lead, data_scientist
):
    client.force_login(data_scientist)
    page = client.get(reverse("mlflow_sync:registry"))
    assert page.status_code == 200
    assert b"mlflow-sync-form" not in page.content
    refused = client.post(reverse("mlflow_sync:sync"))
    assert refused.status_code == 403
    assert queued(registry_sync_task) == []

    client.force_login(governance_lead)
    assert b"mlflow-sync-form" in client.get(reverse("mlflow_sync:registry")).content
    done = client.post(reverse("mlflow_sync:sync"))
    assert done.status_code == 302
    assert queued(registry_sync_task) == [
        {"trigger": "manual", "user_id": governance_lead.pk, "registered_model": ""}
    ]
    assert AuditEvent.objects.filter(action="mlflow_sync_requested", actor=governance_lead).exists()


def test_a_sync_asked_for_without_mlflow_is_refused_on_the_page(client, governance_lead, settings):
    settings.MLFLOW_TRACKING_URI = ""
    client.force_login(governance_lead)
    answer = client.post(reverse("mlflow_sync:sync"))
    assert answer.status_code == 400
    assert b"MLFLOW_TRACKING_URI" in answer.content
    assert queued(registry_sync_task) == []


def test_a_user_with_no_role_cannot_read_the_registry_page(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(reverse("mlflow_sync:registry")).status_code == 403
    client.force_login(user_with_role(Role.AUDITOR, username="aud"))
    assert client.get(reverse("mlflow_sync:registry")).status_code == 200


def test_governance_state_is_written_back_and_a_blocked_production_alias_reverted(
    mlflow_server, mlflow_settings, settings, use_case, data_scientist, unique
):
    """Issue 17: each imported version is tagged with where it stands here; the
    production alias set on a version the gate blocks for prod is removed, the version
    tagged with the gate's reasons, the gate call logged and the removal audited. An
    alias the gate does not guard stays."""
    settings.MLFLOW_ALIAS_ENVIRONMENTS = {"production": "prod"}
    settings.MLFLOW_ALIAS_REVERT = True
    name = unique("limits")
    (registered,) = mlflow_server.steps(
        ("register", {"name": name, "model_tags": {"governance.use_case": use_case.name}}),
    )
    number = registered["version"]
    registry_sync(by=data_scientist, trigger="command", registered_model=name)
    version = ModelVersion.objects.get(model__name=name)
    mlflow_server.steps(
        ("set_alias", {"name": name, "version": number, "alias": "production"}),
        ("set_alias", {"name": name, "version": number, "alias": "champion"}),
    )

    assert alias_check(by=data_scientist, name=name, alias="production", version=number) == (
        "reverted"
    )
    assert alias_check(by=data_scientist, name=name, alias="champion", version=number) == (
        "unguarded"
    )

    (state,) = mlflow_server.steps(("get", {"name": name, "version": number}))
    tags = state["tags"]
    assert tags["governance.risk_tier"] == (use_case.risk_tier or "unclassified")
    assert tags["governance.environment"] == "dev"
    assert tags["governance.gate.prod"] == "blocked"
    assert tags["governance.url"].endswith(f"/reviews/versions/{version.pk}/")
    assert "no-approval" in tags["governance.gate.reasons"]
    assert state["aliases"] == ["champion"]
    call = GateCall.objects.get(model_version=version, environment="prod")
    assert call.allowed is False and call.payload["alias"] == "production"
    reverted = AuditEvent.objects.get(action="mlflow_alias_reverted")
    assert reverted.actor_id == data_scientist.pk and "production" in reverted.reason
    again = registry_sync(by=data_scientist, trigger="command", registered_model=name)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 1)


def test_governance_leads_reach_the_registry_from_the_navigation(client, governance_lead):
    registry = reverse("mlflow_sync:registry")
    client.force_login(governance_lead)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert f'href="{registry}"' in page
    current = client.get(registry).content.decode()
    assert f'href="{registry}" aria-current="page"' in current
    client.force_login(user_with_role(Role.DATA_SCIENTIST, username="ds-nav"))
    assert f'href="{registry}"' not in client.get(reverse("dashboard:home")).content.decode()


def test_mlflow_down_the_page_says_so_and_the_next_pass_tries_again(
    settings, client, governance_lead, data_scientist
):
    """Issue 17, bad input: MLflow down during a scheduled pass fails the run with the
    reason, writes nothing, says so on /mlflow/, and beat queues the next pass when due."""
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.MLFLOW_TIMEOUT_SECONDS = 2
    settings.MLFLOW_SYNC_SECONDS = 600
    settings.MLFLOW_SYNC_USERNAME = data_scientist.username
    events = AuditEvent.objects.count()

    outcome = registry_sync_task.run(trigger="schedule", registered_model="")

    assert (outcome["status"], outcome["imported"]) == ("failed", 0)
    assert not ModelVersion.objects.exists() and not RegistryVersionLink.objects.exists()
    assert AuditEvent.objects.count() == events
    client.force_login(governance_lead)
    page = client.get(reverse("mlflow_sync:registry")).content.decode()
    assert 'data-testid="mlflow-failed"' in page and "cannot be reached" in page
    assert registry_sync_scheduled.run() == ""  # the failed pass is the latest
    SyncRun.objects.update(started_at=timezone.now() - timedelta(seconds=601))
    registry_sync_scheduled.run()
    assert queued(registry_sync_task) == [{"trigger": "schedule", "registered_model": ""}]
