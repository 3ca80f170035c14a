import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Moved from the reviews app with their tables (reviews_monitoringconfig, reviews_referenceprofile, reviews_monitoringbatch, reviews_monitoringwindow, reviews_driftalert, reviews_driftalertevent):
# the state moves here; tables, rows, constraints and indexes stay as they are.
MOVED = ['monitoringconfig', 'referenceprofile', 'monitoringbatch', 'monitoringwindow', 'driftalert', 'driftalertevent']


def content_types_follow(apps, schema_editor):
    """Existing databases: the content types (and permissions on them) follow the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    for model in MOVED:
        if not ContentType.objects.filter(app_label="monitoring", model=model).exists():
            ContentType.objects.filter(app_label="reviews", model=model).update(app_label="monitoring")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('fairness', '0001_initial'),
        ('inventory', '0002_version_validator'),
        ('reviews', '0005_monitoring'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='MonitoringConfig',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('numeric_features', models.JSONField(blank=True, default=list)),
                ('categorical_features', models.JSONField(blank=True, default=list)),
                ('prediction_column', models.CharField(blank=True, max_length=200)),
                ('score_column', models.CharField(blank=True, max_length=200)),
                ('outcome_column', models.CharField(blank=True, help_text='Ground truth in the reference and outcome files.', max_length=200)),
                ('timestamp_column', models.CharField(max_length=200)),
                ('id_column', models.CharField(blank=True, max_length=200)),
                ('sensitive_columns', models.JSONField(blank=True, default=list)),
                ('cadence', models.CharField(choices=[('daily', 'Daily'), ('weekly', 'Weekly')], max_length=10)),
                ('cadence_source', models.TextField(blank=True)),
                ('thresholds', models.JSONField(default=dict, help_text='DriftThresholds.to_dict() plus performance floors.')),
                ('thresholds_source', models.TextField(blank=True)),
                ('last_run', models.JSONField(blank=True, default=dict, help_text='What the last computation did, and its problems.')),
                ('last_computed_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('model_version', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='monitoring_config', to='inventory.modelversion')),
                ('reference', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='monitoring_configs', to='fairness.scoreddataset')),
            ],
            options={
                'verbose_name': 'monitoring configuration',
                'db_table': 'reviews_monitoringconfig',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='MonitoringBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('production', 'Production batch'), ('outcomes', 'Outcomes')], max_length=12)),
                ('time_start', models.DateTimeField(blank=True, null=True)),
                ('time_end', models.DateTimeField(blank=True, null=True)),
                ('rows', models.BigIntegerField(default=0)),
                ('rejected_rows', models.BigIntegerField(default=0)),
                ('matched_rows', models.BigIntegerField(blank=True, help_text='Outcomes only: rows whose prediction id is known.', null=True)),
                ('problems', models.JSONField(blank=True, default=list)),
                ('received_at', models.DateTimeField()),
                ('dataset', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='monitoring_batch', to='fairness.scoreddataset')),
                ('config', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='monitoring.monitoringconfig')),
            ],
            options={
                'verbose_name_plural': 'monitoring batches',
                'db_table': 'reviews_monitoringbatch',
                'ordering': ['-received_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='DriftAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('feature', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('input', 'Input drift'), ('prediction', 'Prediction drift'), ('performance', 'Performance')], max_length=12)),
                ('status', models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('resolved', 'Resolved')], default='open', max_length=12)),
                ('message', models.TextField()),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('breaches', models.PositiveIntegerField(default=1, help_text='Windows in breach so far.')),
                ('opened_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('finding', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='reviews.finding')),
                ('config', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='monitoring.monitoringconfig')),
            ],
            options={
                'db_table': 'reviews_driftalert',
                'ordering': ['-opened_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='MonitoringWindow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.DateTimeField()),
                ('end', models.DateTimeField()),
                ('cadence', models.CharField(choices=[('daily', 'Daily'), ('weekly', 'Weekly')], max_length=10)),
                ('status', models.CharField(choices=[('ok', 'Computed'), ('empty', 'No rows'), ('failed', 'Failed')], max_length=10)),
                ('message', models.TextField(blank=True)),
                ('rows', models.BigIntegerField(default=0)),
                ('rows_with_outcome', models.BigIntegerField(default=0)),
                ('drifted', models.JSONField(blank=True, default=list, help_text='Features that drifted.')),
                ('results', models.JSONField(blank=True, default=dict)),
                ('computed_at', models.DateTimeField()),
                ('config', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='windows', to='monitoring.monitoringconfig')),
            ],
            options={
                'db_table': 'reviews_monitoringwindow',
                'ordering': ['config', 'cadence', 'start'],
            },
        ),
        migrations.CreateModel(
            name='DriftAlertEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('opened', 'Opened'), ('breached', 'Breached again'), ('acknowledged', 'Acknowledged'), ('resolved', 'Resolved')], max_length=12)),
                ('at', models.DateTimeField()),
                ('reason', models.TextField(blank=True)),
                ('alert', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='monitoring.driftalert')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('window', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='monitoring.monitoringwindow')),
            ],
            options={
                'db_table': 'reviews_driftalertevent',
                'ordering': ['alert', 'at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='driftalert',
            name='last_window',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='monitoring.monitoringwindow'),
        ),
        migrations.AddField(
            model_name='driftalert',
            name='window',
            field=models.ForeignKey(help_text='First breach.', on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='monitoring.monitoringwindow'),
        ),
        migrations.CreateModel(
            name='ReferenceProfile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fingerprint', models.CharField(help_text='SHA-256 of the options.', max_length=64)),
                ('options', models.JSONField()),
                ('profile', models.JSONField(blank=True, help_text='core.drift.Profile.to_dict().', null=True)),
                ('performance', models.JSONField(blank=True, null=True)),
                ('rows', models.BigIntegerField(default=0)),
                ('error', models.TextField(blank=True)),
                ('built_at', models.DateTimeField()),
                ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reference_profiles', to='fairness.scoreddataset')),
            ],
            options={
                'db_table': 'reviews_referenceprofile',
                'ordering': ['-built_at', '-id'],
            },
        ),
        migrations.AddConstraint(
            model_name='monitoringwindow',
            constraint=models.UniqueConstraint(fields=('config', 'start', 'cadence'), name='monitoring_window_once'),
        ),
        migrations.AddConstraint(
            model_name='driftalert',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['open', 'acknowledged'])), fields=('config', 'feature', 'kind'), name='drift_alert_one_open'),
        ),
        migrations.AddConstraint(
            model_name='referenceprofile',
            constraint=models.UniqueConstraint(fields=('dataset', 'fingerprint'), name='reference_profile_once_per_options'),
        ),
        ]),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
