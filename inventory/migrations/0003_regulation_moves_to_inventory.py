from django.db import migrations, models


# A use case names the regulations that apply to it, so the regulation vocabulary now
# belongs to the inventory (below governance); the table governance_regulation, its rows
# and the use cases' links to it stay as they are.


def content_type_follows(apps, schema_editor):
    """Existing databases: the content type (and the permissions on it) follow the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    if not ContentType.objects.filter(app_label="inventory", model="regulation").exists():
        ContentType.objects.filter(app_label="governance", model="regulation").update(
            app_label="inventory"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('governance', '0011_auditevent_moves_to_audit'),
        ('inventory', '0002_version_validator'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='Regulation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=40, unique=True)),
                ('name', models.CharField(max_length=200)),
                ('area', models.CharField(choices=[('finance', 'Financial model risk'), ('pharma', 'Pharmaceutical (GxP)'), ('privacy', 'Data privacy'), ('ai', 'AI-specific'), ('other', 'Other')], default='other', max_length=20)),
                ('jurisdiction', models.CharField(blank=True, max_length=100)),
                ('description', models.TextField(blank=True)),
            ],
            options={
                'db_table': 'governance_regulation',
                'ordering': ['name'],
            },
        ),
        migrations.AlterField(
            model_name='usecase',
            name='regulations',
            field=models.ManyToManyField(blank=True, related_name='use_cases', to='inventory.regulation'),
        ),
        ]),
        migrations.RunPython(content_type_follows, migrations.RunPython.noop),
    ]
