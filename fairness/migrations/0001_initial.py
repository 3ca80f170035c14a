import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Moved from the reviews app with their tables (reviews_scoreddataset, reviews_biassummary, reviews_biaspartial):
# the state moves here; tables, rows, constraints and indexes stay as they are.
MOVED = ['scoreddataset', 'biassummary', 'biaspartial']


def content_types_follow(apps, schema_editor):
    """Existing databases: the content types (and permissions on them) follow the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    for model in MOVED:
        if not ContentType.objects.filter(app_label="fairness", model=model).exists():
            ContentType.objects.filter(app_label="reviews", model=model).update(app_label="fairness")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('reviews', '0005_monitoring'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('inventory', '0002_version_validator'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='ScoredDataset',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('evaluation', 'Evaluation (bias summary)'), ('reference', 'Reference (monitoring baseline)'), ('production', 'Production (monitoring window)')], default='evaluation', max_length=12)),
                ('description', models.TextField(blank=True)),
                ('file', models.FileField(help_text='Stored by content: scored-data/<sha256[:2]>/<sha256>.<ext>.', max_length=300, upload_to='')),
                ('original_name', models.CharField(max_length=255)),
                ('format', models.CharField(choices=[('csv', 'CSV'), ('parquet', 'Parquet')], max_length=10)),
                ('size_bytes', models.BigIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('rows', models.BigIntegerField()),
                ('columns', models.JSONField(default=list, help_text="The file's column names.")),
                ('row_groups', models.PositiveIntegerField(blank=True, help_text='Parquet only.', null=True)),
                ('mapping', models.JSONField(help_text='core.scored_io.ColumnMapping.to_dict().')),
                ('uploaded_at', models.DateTimeField()),
                ('model_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scored_datasets', to='inventory.modelversion')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'scored dataset',
                'db_table': 'reviews_scoreddataset',
                'ordering': ['-uploaded_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='BiasSummary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('options', models.JSONField(help_text='Reference group, minimum group size, thresholds and their source.')),
                ('fingerprint', models.CharField(help_text='SHA-256 of the canonical options.', max_length=64)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                ('rows_done', models.BigIntegerField(default=0)),
                ('rows_total', models.BigIntegerField(default=0)),
                ('parts_total', models.PositiveIntegerField(default=0, help_text='Shares computed by separate tasks (0: one task).')),
                ('result', models.JSONField(blank=True, null=True)),
                ('counts', models.JSONField(blank=True, help_text='The merged GroupCounts.to_dict() the result came from.', null=True)),
                ('error', models.TextField(blank=True, help_text='Why it failed, worded for people.')),
                ('task_id', models.CharField(blank=True, max_length=64)),
                ('attempts', models.PositiveIntegerField(default=0, help_text='Times a worker started it.')),
                ('requested_at', models.DateTimeField()),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bias_summaries', to='fairness.scoreddataset')),
            ],
            options={
                'verbose_name': 'bias summary',
                'verbose_name_plural': 'bias summaries',
                'db_table': 'reviews_biassummary',
                'ordering': ['-requested_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='BiasPartial',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField()),
                ('row_groups', models.JSONField()),
                ('rows_total', models.BigIntegerField(default=0)),
                ('rows_done', models.BigIntegerField(default=0)),
                ('counts', models.JSONField(blank=True, null=True)),
                ('done', models.BooleanField(default=False)),
                ('worker', models.CharField(blank=True, help_text='Who computed it.', max_length=200)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('summary', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='partials', to='fairness.biassummary')),
            ],
            options={
                'db_table': 'reviews_biaspartial',
                'ordering': ['summary', 'index'],
                'constraints': [models.UniqueConstraint(fields=('summary', 'index'), name='bias_partial_once')],
            },
        ),
        migrations.AddConstraint(
            model_name='scoreddataset',
            constraint=models.UniqueConstraint(fields=('model_version', 'sha256'), name='scored_dataset_once_per_version', violation_error_message='These exact bytes are already attached to this version.'),
        ),
        migrations.AddIndex(
            model_name='biassummary',
            index=models.Index(fields=['status', 'heartbeat_at'], name='reviews_bia_status_1e584c_idx'),
        ),
        migrations.AddConstraint(
            model_name='biassummary',
            constraint=models.UniqueConstraint(fields=('dataset', 'fingerprint'), name='bias_summary_once_per_options'),
        ),
        ]),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
