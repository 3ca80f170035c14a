"""Step 3 default content (DOMAIN.md, the book's Figure 8-4): the task and role
catalogues with responsibility levels, and the organisation's template matrix."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import governance.models.raci

ROLES = [
    # code, name, responsibility level: strategic for who owns the purpose and the
    # accepted risk, tactical for who plans and coordinates, operational for who builds
    # and runs (see ResponsibilityLevel).
    ("business-stakeholders", "Business stakeholders", "strategic"),
    ("business-analysts", "Business analysts / citizen data scientists", "tactical"),
    ("data-scientists", "Data scientists", "operational"),
    ("risk-audit", "Risk / audit", "strategic"),
    ("data-ops", "Data ops", "operational"),
    ("production", "Production / exploitation", "tactical"),
    ("architect", "Resources admin / architect", "tactical"),
]

# task code, name, {role code: letters}
TASKS = [
    ("identification", "Identification",
     {"business-stakeholders": "AR", "business-analysts": "C", "risk-audit": "I"}),
    ("data-preparation", "Data preparation",
     {"business-stakeholders": "C", "business-analysts": "AR", "data-scientists": "C"}),
    ("data-modeling", "Data modeling",
     {"business-stakeholders": "C", "business-analysts": "A", "data-scientists": "R"}),
    ("model-acceptance", "Model acceptance",
     {"business-stakeholders": "I", "business-analysts": "C", "data-scientists": "C",
      "risk-audit": "AR"}),
    ("productionalization", "Productionalization",
     {"business-analysts": "C", "data-scientists": "AR", "risk-audit": "I", "data-ops": "C"}),
    ("capitalization", "Capitalization",
     {"data-scientists": "R", "data-ops": "R", "architect": "A"}),
    ("integration", "Integration to external systems", {"data-ops": "AR"}),
    ("global-orchestration", "Global orchestration",
     {"business-analysts": "C", "data-ops": "R", "production": "A"}),
    ("user-acceptance-tests", "User acceptance tests",
     {"business-stakeholders": "AR", "business-analysts": "R", "data-scientists": "C",
      "data-ops": "I"}),
    ("deployments", "Deployments", {"data-ops": "R", "production": "A", "architect": "I"}),
    ("monitoring", "Monitoring",
     {"business-stakeholders": "I", "business-analysts": "C", "production": "AR",
      "architect": "I"}),
]


def load(apps, schema_editor):
    Role = apps.get_model("governance", "RaciRole")
    Task = apps.get_model("governance", "RaciTask")
    Cell = apps.get_model("governance", "RaciTemplateCell")
    roles = {}
    for order, (code, name, level) in enumerate(ROLES):
        roles[code], _ = Role.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "order": (order + 1) * 10}
        )
    for order, (code, name, cells) in enumerate(TASKS):
        task, _ = Task.objects.update_or_create(
            code=code, defaults={"name": name, "order": (order + 1) * 10}
        )
        if Cell.objects.filter(task=task).exists():
            continue
        for role_code, letters in cells.items():
            Cell.objects.create(task=task, role=roles[role_code], letters=letters)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_ethics"),
        ("inventory", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RaciRole',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(unique=True)),
                ('name', models.CharField(max_length=100)),
                ('level', models.CharField(choices=[('strategic', 'Strategic'), ('tactical', 'Tactical'), ('operational', 'Operational')], max_length=12)),
                ('order', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'RACI role',
                'ordering': ['order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='RaciTask',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(unique=True)),
                ('name', models.CharField(max_length=100)),
                ('description', models.TextField(blank=True)),
                ('order', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'RACI task',
                'ordering': ['order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='RaciAssignment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assigned_at', models.DateTimeField(auto_now_add=True)),
                ('assigned_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='inventory.team')),
                ('use_case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='raci_assignments', to='inventory.usecase')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='raci_assignments', to=settings.AUTH_USER_MODEL)),
                ('role', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='governance.racirole')),
            ],
            options={
                'ordering': ['use_case', 'role__order', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('team__isnull', True), ('user__isnull', False)), models.Q(('team__isnull', False), ('user__isnull', True)), _connector='OR'), name='raciassignment_user_or_team', violation_error_message='Name either a person or a team.'), models.UniqueConstraint(fields=('use_case', 'role', 'user'), name='raciassignment_unique_user'), models.UniqueConstraint(fields=('use_case', 'role', 'team'), name='raciassignment_unique_team')],
            },
        ),
        migrations.CreateModel(
            name='RaciTemplateCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('letters', models.CharField(max_length=4, validators=[governance.models.raci.validate_letters])),
                ('role', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='template_cells', to='governance.racirole')),
                ('task', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='template_cells', to='governance.racitask')),
            ],
            options={
                'ordering': ['task__order', 'role__order'],
                'constraints': [models.UniqueConstraint(fields=('task', 'role'), name='racitemplatecell_unique')],
            },
        ),
        migrations.CreateModel(
            name='UseCaseRaciCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('letters', models.CharField(blank=True, max_length=4, validators=[governance.models.raci.validate_letters])),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('role', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.racirole')),
                ('task', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.racitask')),
                ('updated_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('use_case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='raci_cells', to='inventory.usecase')),
            ],
            options={
                'ordering': ['use_case', 'task__order', 'role__order'],
                'constraints': [models.UniqueConstraint(fields=('use_case', 'task', 'role'), name='usecaseracicell_unique')],
            },
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
