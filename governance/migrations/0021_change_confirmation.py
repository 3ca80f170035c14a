"""A change declaration's confirmation becomes a signed, append-only record of its own
(``ChangeConfirmation``): the confirmation columns of the declaration could be
rewritten. Confirmations given before are copied as ``auth_method="migrated"`` (they
were not signed with a password, and the record says so); the declaration's columns
are then dropped. On PostgreSQL both tables refuse UPDATE and DELETE (the function of
governance 0018). Reversible: the columns come back with the copied values."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLES = ["governance_changedeclaration", "governance_changeconfirmation"]


def _has_old_columns(schema_editor) -> bool:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, TABLES[0])
    return any(c.name == "confirmed_at" for c in columns)


def copy_out(apps, schema_editor):
    if not _has_old_columns(schema_editor):  # re-run on today's schema: nothing to copy
        return
    Declaration = apps.get_model("governance", "ChangeDeclaration")
    Confirmation = apps.get_model("governance", "ChangeConfirmation")
    for d in Declaration.objects.filter(confirmed_at__isnull=False).select_related(
        "confirmed_by"
    ):
        user = d.confirmed_by
        full = f"{user.first_name} {user.last_name}".strip()
        Confirmation.objects.create(
            declaration=d,
            confirmed_by=user,
            printed_name=f"{full} ({user.username})" if full else user.username,
            confirmed_at=d.confirmed_at,
            note=d.confirmation_note,
            auth_method="migrated",
        )


def copy_back(apps, schema_editor):
    Confirmation = apps.get_model("governance", "ChangeConfirmation")
    Declaration = apps.get_model("governance", "ChangeDeclaration")
    for c in Confirmation.objects.all():
        Declaration.objects.filter(pk=c.declaration_id).update(
            confirmed_by=c.confirmed_by_id, confirmed_at=c.confirmed_at, confirmation_note=c.note
        )


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION governance_refuse_change();",
            params=None,
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0020_catalogue_edit_kind"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeConfirmation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("printed_name", models.CharField(max_length=300)),
                ("confirmed_at", models.DateTimeField()),
                (
                    "meaning",
                    models.CharField(default="change confirmed not material", max_length=60),
                ),
                ("note", models.TextField(blank=True)),
                (
                    "auth_method",
                    models.CharField(
                        help_text="'password' for a signature typed now; 'migrated' for a "
                        "confirmation given before confirmations were signed; 'seeded' for "
                        "the demo loader.",
                        max_length=20,
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "declaration",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="confirmation",
                        to="governance.changedeclaration",
                    ),
                ),
            ],
            options={"ordering": ["-confirmed_at", "-id"]},
        ),
        migrations.RunPython(copy_out, copy_back),
        migrations.RemoveField(model_name="changedeclaration", name="confirmation_note"),
        migrations.RemoveField(model_name="changedeclaration", name="confirmed_at"),
        migrations.RemoveField(model_name="changedeclaration", name="confirmed_by"),
        migrations.RunPython(install, remove),
    ]
