"""The demo's MLflow registry (issue 17, ``demo.mlflow_registry``, called by
``seed_demo``) against a real `mlflow server`: the models and versions are created in
MLflow, imported here with their artifact digest and tags, the untagged model listed as
not imported, the blocked production alias reverted; a second load duplicates nothing
and audits nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from demo import mlflow_registry
from inventory.choices import RiskTier
from inventory.models import ModelVersion
from mlflow_sync.client import MLflowClient
from mlflow_sync.models import RegistryVersionLink, SyncRun
from tests.factories import UseCaseFactory, user_with_role
from tests.mlflow_sync.test_sync import digest_on_disk

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("mlflow")]
TAGGED = [spec for spec in mlflow_registry.MODELS if spec.use_case]
UNTAGGED = next(spec for spec in mlflow_registry.MODELS if not spec.use_case)
GUARDED = next(spec for spec in mlflow_registry.MODELS if spec.alias)


def mlflow_versions(client: MLflowClient, name: str) -> list[dict]:
    return client.call(
        "/api/2.0/mlflow/model-versions/search", params={"filter": f"name='{name}'"}
    ).get("model_versions", [])


def test_the_demo_fills_mlflow_and_syncs_it_once_and_only_once(
    mlflow_server, mlflow_settings, governance_lead, client
):
    for spec in TAGGED:
        # A classified use case: its tier goes back to MLflow by name (a string).
        UseCaseFactory(name=spec.use_case, risk_tier=RiskTier.HIGH)
    lines: list[str] = []

    run = mlflow_registry.load(by=governance_lead, say=lines.append)

    mlflow = MLflowClient(mlflow_server.url)
    assert run.status == SyncRun.Status.DONE
    assert len(lines) == 1 and "4 models and 6 versions created there" in lines[0]
    for spec in TAGGED:
        stored = mlflow_versions(mlflow, spec.name)
        assert len(stored) == len(spec.versions)
        for item in stored:
            version = ModelVersion.objects.get(model__name=spec.name, version_label=item["version"])
            assert version.model.use_case.name == spec.use_case
            assert version.registered_by == governance_lead
            uri = mlflow.download_uri(spec.name, item["version"])
            assert version.artifact_sha256 == digest_on_disk(mlflow_server.artifacts, uri)
            assert version.framework == "mlflow python_function"
            link = version.mlflow_link
            assert link.tags == {}  # the use case is named on the registered model
            assert link.description == spec.versions[int(item["version"]) - 1]
            assert link.run_id == item["run_id"]
    assert len(mlflow_versions(mlflow, UNTAGGED.name)) == 1
    assert not ModelVersion.objects.filter(model__name=UNTAGGED.name).exists()
    demo_names = {spec.name for spec in mlflow_registry.MODELS}
    (skipped,) = [s for s in run.skipped if s["model"] in demo_names]
    assert skipped["model"] == UNTAGGED.name
    assert "no 'governance.use_case' tag" in skipped["reason"]

    # The production alias the demo set on an unapproved version: removed, reasons tagged.
    index, alias = GUARDED.alias
    number = str(index + 1)
    assert alias not in mlflow.aliases(GUARDED.name)
    (state,) = mlflow_server.steps(("get", {"name": GUARDED.name, "version": number}))
    assert "no-approval" in state["tags"]["governance.gate.reasons"]
    assert state["tags"]["governance.gate.prod"] == "blocked"
    assert state["tags"]["governance.risk_tier"] == "High"
    reverted = AuditEvent.objects.get(action="mlflow_alias_reverted")
    assert reverted.object_id == str(
        ModelVersion.objects.get(model__name=GUARDED.name, version_label=number).pk
    )
    assert f"alias 'production' on {GUARDED.name} v{number}: reverted" in lines[0]

    client.force_login(governance_lead)
    page = client.get(reverse("mlflow_sync:registry")).content.decode()
    for spec in TAGGED:
        assert spec.name in page and spec.use_case in page
    assert f"{UNTAGGED.name} v1: no &#x27;governance.use_case&#x27; tag" in page

    versions, links, events = (
        ModelVersion.objects.count(),
        RegistryVersionLink.objects.count(),
        AuditEvent.objects.count(),
    )
    lines.clear()

    again = mlflow_registry.load(by=governance_lead, say=lines.append)

    assert "0 models and 0 versions created there" in lines[0]
    assert "alias" not in lines[0]
    for spec in mlflow_registry.MODELS:
        assert len(mlflow_versions(mlflow, spec.name)) == len(spec.versions)
    assert (again.imported, again.updated) == (0, 0)
    assert ModelVersion.objects.count() == versions
    assert RegistryVersionLink.objects.count() == links
    assert AuditEvent.objects.count() == events


def test_mlflow_unreachable_is_one_line_and_the_demo_goes_on(settings):
    """``seed_demo --mlflow-only`` (what ``make run-mlflow`` runs once its server
    answers) needs the portfolio and the setting; an unreachable server is one line."""
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(CommandError, match="Load the demo portfolio first"):
        call_command("seed_demo", "--mlflow-only")
    user_with_role(Role.GOVERNANCE_LEAD, username="governance.lead")
    out = StringIO()

    call_command("seed_demo", "--mlflow-only", stdout=out)

    (line,) = out.getvalue().splitlines()
    assert "MLflow registry not loaded" in line and "cannot be reached" in line
    assert not SyncRun.objects.exists()
    settings.MLFLOW_TRACKING_URI = ""
    with pytest.raises(CommandError, match="MLFLOW_TRACKING_URI is not set"):
        call_command("seed_demo", "--mlflow-only")


def test_without_mlflow_configured_the_demo_does_nothing(settings, governance_lead):
    settings.MLFLOW_TRACKING_URI = ""
    lines: list[str] = []
    assert mlflow_registry.load(by=governance_lead, say=lines.append) is None
    assert lines == []
    assert not SyncRun.objects.exists()
