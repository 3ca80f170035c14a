# Reference profiles built by a worker and stored column by column (issue 18): the state
# of the build, a summary on the row, one row per column with its arrays. The JSON
# profile is moved into them by 0003 and dropped by 0004.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="referenceprofile",
            options={"ordering": ["-requested_at", "-id"]},
        ),
        migrations.AddField(
            model_name="referenceprofile",
            name="requested_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="referenceprofile",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="referenceprofile",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("building", "Building"),
                    ("ready", "Ready"),
                    ("failed", "Failed"),
                ],
                default="queued",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="referenceprofile",
            name="summary",
            field=models.JSONField(
                blank=True,
                help_text="Schema version, rows, bins, problems, and per feature its kind, "
                "non-missing and missing counts, distinct values and whether they were pooled.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="referenceprofile",
            name="built_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="referenceprofile",
            name="error",
            field=models.TextField(blank=True, help_text="Why it could not be built, for people."),
        ),
        migrations.CreateModel(
            name="ReferenceProfileFeature",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                ("name", models.CharField(max_length=200)),
                (
                    "kind",
                    models.CharField(
                        choices=[("numeric", "Numeric"), ("categorical", "Categorical")],
                        max_length=12,
                    ),
                ),
                ("missing", models.BigIntegerField(default=0)),
                ("bins", models.PositiveIntegerField(default=0)),
                ("approximate", models.BooleanField(default=False)),
                ("edges", models.JSONField(blank=True, default=list)),
                ("proportions", models.JSONField(blank=True, default=list)),
                ("categories", models.JSONField(blank=True, default=list)),
                (
                    "values",
                    models.BinaryField(
                        blank=True, help_text="float64 .npy (numeric).", null=True
                    ),
                ),
                (
                    "counts",
                    models.BinaryField(help_text="int64 .npy, one count per value or category."),
                ),
                (
                    "profile",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="parts",
                        to="monitoring.referenceprofile",
                    ),
                ),
            ],
            options={
                "ordering": ["profile", "position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("profile", "name"), name="reference_feature_once"
                    )
                ],
            },
        ),
    ]
