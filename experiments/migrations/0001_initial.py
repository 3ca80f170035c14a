import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Moved from the reviews app with their tables (reviews_experiment, reviews_experimentbatch, reviews_experimentoutcome):
# the state moves here; tables, rows, constraints and indexes stay as they are.
MOVED = ['experiment', 'experimentbatch', 'experimentoutcome']


def content_types_follow(apps, schema_editor):
    """Existing databases: the content types (and permissions on them) follow the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    for model in MOVED:
        if not ContentType.objects.filter(app_label="experiments", model=model).exists():
            ContentType.objects.filter(app_label="reviews", model=model).update(app_label="experiments")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('reviews', '0005_monitoring'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('governance', '0011_auditevent_moves_to_audit'),
        ('inventory', '0002_version_validator'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='Experiment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('hypothesis', models.TextField(blank=True)),
                ('design', models.CharField(choices=[('ab', 'A/B test (unpaired: the challenger serves a share of traffic)'), ('shadow', 'Shadow scoring (paired: both models score the same requests)')], max_length=10)),
                ('primary_metric', models.CharField(help_text='What is measured per unit.', max_length=200)),
                ('metric_kind', models.CharField(choices=[('proportion', 'Proportion (e.g. click-through, correct decisions)'), ('mean', 'Mean (e.g. revenue per customer, absolute error)')], max_length=12)),
                ('population', models.TextField(help_text='Who or what is eligible for the experiment.')),
                ('splitting', models.CharField(choices=[('random', 'Random share of requests'), ('hash', 'Hash of an entity key (all requests of one entity go to one model)')], default='hash', max_length=10)),
                ('entity_key_name', models.CharField(blank=True, help_text='What the assignment key is, e.g. customer_id.', max_length=100)),
                ('protocol', models.JSONField(help_text='core.experiment_stats.Protocol.to_dict().')),
                ('sample_size', models.JSONField(help_text='core.experiment_stats.SampleSize.to_dict().')),
                ('planned_units', models.PositiveIntegerField(help_text='Units (A/B) or pairs (shadow) in all.')),
                ('planned_days', models.PositiveIntegerField(blank=True, null=True)),
                ('salt', models.CharField(help_text='Seeds the deterministic assignment.', max_length=64)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('running', 'Running'), ('ended', 'Ended, awaiting analysis'), ('analysed', 'Analysed'), ('abandoned', 'Abandoned')], default='draft', max_length=10)),
                ('protocol_sha256', models.CharField(blank=True, max_length=64)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('planned_end', models.DateTimeField(blank=True, null=True)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('end_reason', models.CharField(blank=True, max_length=200)),
                ('analysed_at', models.DateTimeField(blank=True, null=True)),
                ('abandoned_at', models.DateTimeField(blank=True, null=True)),
                ('abandon_reason', models.TextField(blank=True)),
                ('looks', models.JSONField(blank=True, default=list, help_text='Interim looks taken (sequential designs).')),
                ('result', models.JSONField(blank=True, null=True)),
                ('result_sha256', models.CharField(blank=True, max_length=64)),
                ('evidence_sha256', models.CharField(blank=True, max_length=64)),
                ('challenger', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='experiments_as_challenger', to='inventory.modelversion')),
                ('champion', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='experiments_as_champion', to='inventory.modelversion')),
                ('evidence_obligation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.obligation')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='experiments', to=settings.AUTH_USER_MODEL)),
                ('use_case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='experiments', to='inventory.usecase')),
            ],
            options={
                'db_table': 'reviews_experiment',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ExperimentBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('csv', 'CSV upload'), ('api', 'API batch')], max_length=5)),
                ('name', models.CharField(blank=True, max_length=255)),
                ('sha256', models.CharField(max_length=64)),
                ('rows', models.PositiveIntegerField()),
                ('uploaded_at', models.DateTimeField()),
                ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='experiments.experiment')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'experiment batches',
                'db_table': 'reviews_experimentbatch',
                'ordering': ['-uploaded_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ExperimentOutcome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entity_key', models.CharField(max_length=200)),
                ('arm', models.CharField(blank=True, help_text='champion or challenger (A/B).', max_length=10)),
                ('outcome', models.FloatField(blank=True, null=True)),
                ('champion_outcome', models.FloatField(blank=True, null=True)),
                ('challenger_outcome', models.FloatField(blank=True, null=True)),
                ('guardrails', models.JSONField(blank=True, default=dict)),
                ('batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='outcomes', to='experiments.experimentbatch')),
                ('experiment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='outcomes', to='experiments.experiment')),
            ],
            options={
                'db_table': 'reviews_experimentoutcome',
                'ordering': ['id'],
            },
        ),
        migrations.AddIndex(
            model_name='experiment',
            index=models.Index(fields=['status'], name='reviews_exp_status_a6e5f8_idx'),
        ),
        migrations.AddConstraint(
            model_name='experiment',
            constraint=models.CheckConstraint(condition=models.Q(('champion', models.F('challenger')), _negated=True), name='experiment_arms_differ', violation_error_message='The champion and the challenger must be different.'),
        ),
        migrations.AddIndex(
            model_name='experimentoutcome',
            index=models.Index(fields=['experiment', 'entity_key'], name='reviews_exp_experim_35f8cb_idx'),
        ),
        ]),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
