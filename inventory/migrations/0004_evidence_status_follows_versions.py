"""Issue 12, status follows reality: every use case whose status its versions'
environments contradict (production with nothing in production, idea with a version in
QA, ...) gets the status they lead to, with an audit event saying why. Reversing leaves
the corrected statuses (they were valid before too)."""

from django.db import migrations


def forward(apps, schema_editor):
    from core import lifecycle_rules

    UseCase = apps.get_model("inventory", "UseCase")
    ModelVersion = apps.get_model("inventory", "ModelVersion")
    envs: dict[int, list[str]] = {}
    for use_case_id, env in ModelVersion.objects.values_list("model__use_case_id", "environment"):
        envs.setdefault(use_case_id, []).append(env)
    for use_case in UseCase.objects.order_by("pk"):
        found = envs.get(use_case.pk, [])
        status = lifecycle_rules.lifecycle_derive(use_case.status, found)
        if status == use_case.status:
            continue
        _allowed, why = lifecycle_rules.lifecycle_allowed(found)
        UseCase.objects.filter(pk=use_case.pk).update(status=status)
        from audit.services import audit_record

        audit_record(
            action="update",
            object_type="inventory.usecase",
            object_id=use_case.pk,
            object_repr=use_case.name,
            changes={"status": [use_case.status, status]},
            reason=f"Data migration: the status follows the versions ({why}).",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_regulation_moves_to_inventory"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
