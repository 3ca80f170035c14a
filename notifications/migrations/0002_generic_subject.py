from django.db import migrations, models
from django.db.models.functions import Cast

# One foreign key per kind of subject becomes one generic subject ("app_label.model" +
# id), so that any app can queue an e-mail about its own rows without the outbox
# knowing it. Every existing row keeps what it was about.

SUBJECT_FIELDS = (  # the old foreign keys, most specific first
    ("experiment", "experiments.experiment"),
    ("drift_alert", "monitoring.driftalert"),
    ("request", "reviews.promotionrequest"),
    ("model_version", "inventory.modelversion"),
)


def subjects_forward(apps, schema_editor):
    """One UPDATE per old foreign key, most specific first; every row must end up with a
    subject (a row about nothing could never be sent)."""
    Notification = apps.get_model("notifications", "Notification")  # noqa: N806
    if not Notification.objects.exists():  # (SELECT 1: names no column of either shape)
        return
    for field, label in SUBJECT_FIELDS:
        Notification.objects.filter(**{f"{field}__isnull": False}, subject_type="").update(
            subject_type=label, subject_id=Cast(f"{field}_id", output_field=models.CharField())
        )
    orphans = list(Notification.objects.filter(subject_type="").values_list("pk", flat=True))
    if orphans:
        raise RuntimeError(f"Outbox rows about nothing, cannot migrate: {orphans[:20]}")


def subjects_backward(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")  # noqa: N806
    if not Notification.objects.exists():
        return
    fields = dict((label, field) for field, label in SUBJECT_FIELDS)
    for note in Notification.objects.all().iterator():
        field = fields.get(note.subject_type)
        if field:
            Notification.objects.filter(pk=note.pk).update(**{f"{field}_id": int(note.subject_id)})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("reviews", "0007_notification_moves_to_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="subject_type",
            field=models.CharField(default="", help_text="app_label.model", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_id",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(subjects_forward, subjects_backward),
        migrations.RemoveField(model_name="notification", name="experiment"),
        migrations.RemoveField(model_name="notification", name="drift_alert"),
        migrations.RemoveField(model_name="notification", name="request"),
        migrations.RemoveField(model_name="notification", name="model_version"),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("approval_requested", "Approval requested"),
                    ("reminder", "Reminder"),
                    ("escalation", "Escalation"),
                    ("decision", "Decision"),
                    ("review_overdue", "Periodic review overdue"),
                    ("experiment_ended", "Experiment ended"),
                    ("experiment_analysed", "Experiment analysed"),
                    ("drift_alert", "Monitoring alert"),
                    ("obligations_assigned", "Obligations assigned"),
                ],
                max_length=40,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["subject_type", "subject_id"], name="notification_subject"),
        ),
    ]
