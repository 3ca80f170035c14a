
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The audit trail moves from the governance app with its table: the state moves here,
# the table (governance_auditevent), its rows, indexes and PostgreSQL triggers stay.


def content_type_follows(apps, schema_editor):
    """Existing databases: the content type (and the permissions on it) follow the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    if not ContentType.objects.filter(app_label="audit", model="auditevent").exists():
        ContentType.objects.filter(app_label="governance", model="auditevent").update(
            app_label="audit"
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("governance", "0010_audit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
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
                'db_table': 'governance_auditevent',
                'ordering': ['-seq'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='auditevent_object'), models.Index(fields=['parent_type', 'parent_id'], name='auditevent_parent'), models.Index(fields=['actor_label'], name='auditevent_actor_label')],
            },
        )]),
        migrations.RunPython(content_type_follows, migrations.RunPython.noop),
    ]
