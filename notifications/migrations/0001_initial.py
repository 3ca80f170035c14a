import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The outbox moves from the reviews app with its table (reviews_notification): first its
# state as it was (one foreign key per kind of subject); 0002 then makes the subject
# generic.


def content_type_follows(apps, schema_editor):
    """Existing databases: the content type (and the permissions on it) follow the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    if not ContentType.objects.filter(app_label="notifications", model="notification").exists():
        ContentType.objects.filter(app_label="reviews", model="notification").update(
            app_label="notifications"
        )


KINDS = [
    ("approval_requested", "Approval requested"),
    ("reminder", "Reminder"),
    ("escalation", "Escalation"),
    ("decision", "Decision"),
    ("review_overdue", "Periodic review overdue"),
    ("experiment_ended", "Experiment ended"),
    ("experiment_analysed", "Experiment analysed"),
    ("drift_alert", "Monitoring alert"),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0003_regulation_moves_to_inventory"),
        ("reviews", "0006_bias_monitoring_experiments_move_out"),
        ("experiments", "0001_initial"),
        ("monitoring", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),  # noqa: E501
                        ("key", models.CharField(max_length=200, unique=True)),
                        ("kind", models.CharField(choices=KINDS, max_length=20)),
                        ("email", models.EmailField(max_length=254)),
                        ("context", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField()),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("claimed_at", models.DateTimeField(blank=True, help_text="Set while a worker sends it, so two never do.", null=True)),  # noqa: E501
                        ("last_error", models.TextField(blank=True)),
                        ("model_version", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="inventory.modelversion")),  # noqa: E501
                        ("recipient", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),  # noqa: E501
                        ("request", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="notifications", to="reviews.promotionrequest")),  # noqa: E501
                        ("experiment", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="notifications", to="experiments.experiment")),  # noqa: E501
                        ("drift_alert", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="notifications", to="monitoring.driftalert")),  # noqa: E501
                    ],
                    options={"db_table": "reviews_notification", "ordering": ["-created_at", "-id"]},
                ),
            ]
        ),
        migrations.RunPython(content_type_follows, migrations.RunPython.noop),
    ]
