"""The audit trail (governance.models.audit), and on PostgreSQL the triggers that make
its table append-only in the database itself: UPDATE, DELETE and TRUNCATE raise,
whatever the application (or anybody with the application's credentials) sends.

TRUNCATE is let through only in databases whose name starts with ``test_``: Django's
test runner creates those, and empties every table with TRUNCATE between tests that
commit. Statement-level triggers: an UPDATE or DELETE that matches no row is refused
too.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "governance_auditevent"

INSTALL = [
    """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    f"CREATE TRIGGER {TABLE}_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION governance_audit_append_only()",
    f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION governance_audit_append_only()",
]

REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS governance_audit_append_only()",
]


def install_triggers(apps, schema_editor):
    # Idempotent (tests/conftest.py re-runs data migrations after a flush).
    if schema_editor.connection.vendor == "postgresql":
        for statement in [*REMOVE[:2], *INSTALL]:
            # No parameters: the function's body has % signs of its own.
            schema_editor.execute(statement, params=None)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in REMOVE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0009_obligations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveBigIntegerField(editable=False, help_text='Position in the chain: 1, 2, 3, ... no gaps.', unique=True)),
                ('occurred_at', models.DateTimeField(db_index=True, editable=False)),
                ('actor_label', models.CharField(editable=False, help_text="The actor's name when it happened.", max_length=200)),
                ('action', models.CharField(db_index=True, editable=False, max_length=64)),
                ('object_type', models.CharField(editable=False, help_text='app_label.model', max_length=100)),
                ('object_id', models.CharField(blank=True, editable=False, max_length=64)),
                ('object_repr', models.CharField(blank=True, editable=False, max_length=300)),
                ('parent_type', models.CharField(blank=True, editable=False, help_text='The object it belongs to, if any.', max_length=100)),
                ('parent_id', models.CharField(blank=True, editable=False, max_length=64)),
                ('changes', models.JSONField(blank=True, default=dict, editable=False)),
                ('reason', models.TextField(blank=True, editable=False)),
                ('context', models.JSONField(blank=True, default=dict, editable=False)),
                ('prev_hash', models.CharField(editable=False, max_length=64)),
                ('hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('actor', models.ForeignKey(blank=True, editable=False, help_text='Empty for the system (a task or a command).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'audit event',
                'ordering': ['-seq'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='auditevent_object'), models.Index(fields=['parent_type', 'parent_id'], name='auditevent_parent'), models.Index(fields=['actor_label'], name='auditevent_actor_label')],
            },
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
