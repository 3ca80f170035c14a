"""On PostgreSQL, the database itself refuses UPDATE and DELETE of the append-only
sign-off records (signatures, waivers, periodic reviews, gate calls, signing
failures): the application's own connection cannot rewrite history row by row.
(TRUNCATE stays possible for the database owner: test databases are flushed with it.)"""

from django.db import migrations

TABLES = [
    "reviews_signature",
    "reviews_blockingwaiver",
    "reviews_periodicreview",
    "reviews_gatecall",
    "reviews_signingfailure",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION reviews_refuse_change() RETURNS trigger AS $$
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
            "FOR EACH ROW EXECUTE FUNCTION reviews_refuse_change();"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS reviews_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
