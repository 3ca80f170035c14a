"""The governance records added for issue 12 are append-only in the database too, as
reviews 0002/0008 make the sign-off records: on PostgreSQL a row trigger refuses any
UPDATE or DELETE of a four-eyes proposal or decision, a classification confirmation or
an artifact link (the Python guard, ``AppendOnlyModel``, stays the first line)."""

from django.db import migrations

TABLES = [
    "governance_frameworkchange",
    "governance_frameworkchangedecision",
    "governance_classificationconfirmation",
    "inventory_artifactlink",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION governance_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
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
    schema_editor.execute("DROP FUNCTION IF EXISTS governance_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0017_classreg_regulations_eu_ai_act"),
        ("inventory", "0005_classreg_artifact_link"),
    ]

    operations = [migrations.RunPython(install, remove)]
