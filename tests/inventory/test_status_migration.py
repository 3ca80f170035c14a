"""The data migration that makes existing use cases' status follow their versions."""

import importlib

from django.apps import apps

from audit.models import AuditEvent
from tests.factories import ModelVersionFactory, UseCaseFactory

migration = importlib.import_module("inventory.migrations.0004_evidence_status_follows_versions")


def test_contradicted_statuses_are_fixed_and_audited(db):
    claimed = ModelVersionFactory(model__use_case__status="production").model.use_case
    running = ModelVersionFactory(
        model__use_case__status="idea", environment="preprod"
    ).model.use_case
    honest = UseCaseFactory(status="idea")
    migration.forward(apps, None)
    for use_case, status in [(claimed, "development"), (running, "validation"), (honest, "idea")]:
        use_case.refresh_from_db()
        assert use_case.status == status
    events = AuditEvent.objects.filter(object_type="inventory.usecase", action="update")
    fixed = events.filter(reason__startswith="Data migration")
    assert sorted(e.changes["status"][1] for e in fixed) == ["development", "validation"]
    migration.forward(apps, None)
    assert events.filter(reason__startswith="Data migration").count() == 2
