"""A database made before the apps were split migrates forward with its rows: the
models moved to audit, inventory (regulations), fairness, monitoring, experiments and
notifications keep their tables and data, and old outbox rows keep their subject.

The database is taken back to the migrations of the last release before the split,
filled through the models as they were then, and migrated forward again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.db_guard import frozen_lifted
from reviews.gate_revisions import revision_triggers_lifted
from tests.db_guard_plugin import tamper_with

# The last migration of each app before the split (what an existing database has).
BEFORE = [
    ("governance", "0010_audit"),
    ("inventory", "0002_version_validator"),
    ("reviews", "0005_monitoring"),
    ("audit", None),
    ("notifications", None),
    ("fairness", None),
    ("monitoring", None),
    ("experiments", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    # As ``migrate`` does (pre_migrate): governance 0022/0023 rewrite published cells,
    # and the gate's revision triggers read the schema of the latest migrations.
    with frozen_lifted(connection), revision_triggers_lifted(connection):
        executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_split_migrates_forward_with_its_rows(owner_connection):
    executor = _migrate(BEFORE)
    # Going back in time leaves the audit events that later data migrations recorded
    # (append-only; governance 0023's policy v3); a database from before the split had
    # none.
    tamper_with("governance_auditevent", "DELETE FROM governance_auditevent")
    old = executor.loader.project_state([t for t in BEFORE if t[1] is not None]).apps
    User = old.get_model("auth", "User")  # noqa: N806
    owner = User.objects.create(username="owner", email="owner@example.org")
    team = old.get_model("inventory", "Team").objects.create(name="Credit", slug="credit")
    gdpr = old.get_model("governance", "Regulation").objects.create(code="gdpr-x", name="GDPR X")
    use_case = old.get_model("inventory", "UseCase").objects.create(
        name="Scoring",
        purpose="Score",
        team=team,
        business_owner=owner,
        technical_owner=owner,
        created_by=owner,
    )
    use_case.regulations.add(gdpr)
    model = old.get_model("inventory", "MLModel").objects.create(
        use_case=use_case, name="Scorecard", created_by=owner
    )
    version = old.get_model("inventory", "ModelVersion").objects.create(
        model=model,
        version_label="1.0",
        artifact_uri="s3://m/1",
        artifact_sha256="a" * 64,
        framework="sklearn",
        registered_by=owner,
    )
    old.get_model("reviews", "Notification").objects.create(
        key="review:1",
        kind="review_overdue",
        model_version=version,
        recipient=owner,
        email=owner.email,
        created_at=timezone.now(),
    )
    old.get_model("governance", "AuditEvent").objects.create(
        seq=1,
        occurred_at=timezone.now(),
        actor_label="system",
        action="create",
        object_type="governance.regulation",
        object_id=str(gdpr.pk),
        prev_hash="0" * 64,
        hash="f" * 64,
    )

    executor = _migrate(executor.loader.graph.leaf_nodes())
    new = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps

    regulation = new.get_model("inventory", "Regulation").objects.get(code="gdpr-x")
    assert regulation.pk == gdpr.pk and regulation.name == "GDPR X"
    moved_use_case = new.get_model("inventory", "UseCase").objects.get(pk=use_case.pk)
    assert list(moved_use_case.regulations.values_list("code", flat=True)) == ["gdpr-x"]
    [note] = new.get_model("notifications", "Notification").objects.all()
    assert (note.kind, note.subject_type, note.subject_id) == (
        "review_overdue",
        "inventory.modelversion",
        str(version.pk),
    )
    # The old use case (an idea with a version) now follows its version (issue 12); that
    # correction is the first event appended after the moved one (then governance 0023's
    # policy v3 events).
    [event, fix, *later] = new.get_model("audit", "AuditEvent").objects.order_by("seq")
    assert {e.action for e in later} <= {
        "policy_version.cells_restored",
        "policy_version.published",
    }
    assert (event.seq, event.hash, event.object_type) == (1, "f" * 64, "governance.regulation")
    assert (fix.seq, fix.prev_hash, fix.changes) == (
        2,
        "f" * 64,
        {"status": ["idea", "development"]},
    )
    assert moved_use_case.status == "development"
