"""Step 5: obligations per use case and their append-only history.

No default content: obligations are derived from the published policy per use case
(``governance.services.obligations_recompute``; ``seed_demo`` computes them for the
demo use cases).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0008_policy"),
        ("inventory", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Obligation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("none", "None"),
                            ("light", "Light"),
                            ("medium", "Medium"),
                            ("strict", "Strict"),
                        ],
                        max_length=10,
                    ),
                ),
                ("text", models.TextField(blank=True)),
                ("parameters", models.JSONField(blank=True, default=dict)),
                (
                    "why",
                    models.TextField(
                        help_text="The policy cell or regulation requirement that set it."
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("evidence_submitted", "Evidence submitted"),
                            ("accepted", "Accepted"),
                            ("waived", "Waived"),
                        ],
                        default="open",
                        max_length=20,
                    ),
                ),
                ("due_date", models.DateField()),
                ("active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField()),
                ("superseded_at", models.DateTimeField(blank=True, null=True)),
                ("evidence_link", models.URLField(blank=True, max_length=1000)),
                (
                    "evidence_file",
                    models.FileField(blank=True, upload_to="obligations/evidence/%Y/%m/"),
                ),
                ("evidence_name", models.CharField(blank=True, max_length=255)),
                ("evidence_sha256", models.CharField(blank=True, max_length=64)),
                ("evidence_size", models.PositiveBigIntegerField(blank=True, null=True)),
                ("evidence_at", models.DateTimeField(blank=True, null=True)),
                (
                    "consideration",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="obligations",
                        to="governance.consideration",
                    ),
                ),
                (
                    "evidence_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        help_text="The RACI Accountable person; empty when the RACI names nobody.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="obligations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "policy_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="obligations",
                        to="governance.policyversion",
                    ),
                ),
                (
                    "use_case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="obligations",
                        to="inventory.usecase",
                    ),
                ),
            ],
            options={
                "ordering": ["use_case", "consideration__order", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ObligationEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("changed", "Changed"),
                            ("superseded", "Superseded"),
                            ("evidence_submitted", "Evidence submitted"),
                            ("accepted", "Accepted"),
                            ("waived", "Waived"),
                            ("owner_changed", "Owner changed"),
                        ],
                        max_length=20,
                    ),
                ),
                ("at", models.DateTimeField()),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("reason", models.TextField(blank=True)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty for the system (a recompute).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "obligation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="governance.obligation",
                    ),
                ),
            ],
            options={
                "ordering": ["obligation", "at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="obligation",
            index=models.Index(fields=["status", "due_date"], name="governance__status_2142cf_idx"),
        ),
        migrations.AddConstraint(
            model_name="obligation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("active", True)),
                fields=("use_case", "consideration"),
                name="obligation_one_active",
                violation_error_message="This use case already has an active obligation for this consideration.",
            ),
        ),
        migrations.AddConstraint(
            model_name="obligation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("active", True), ("superseded_at__isnull", True)),
                    models.Q(("active", False), ("superseded_at__isnull", False)),
                    _connector="OR",
                ),
                name="obligation_superseded_dated",
            ),
        ),
    ]
