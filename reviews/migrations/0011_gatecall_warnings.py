# The gate's answer carries warnings beside its blocking reasons (issue 12 item 8): a
# finding opened after the approval is named there instead of voiding the signatures.
# Calls logged before have none.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0010_signed_finding_acceptance"),
    ]

    operations = [
        migrations.AddField(
            model_name="gatecall",
            name="warnings",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="What the answer noted without blocking (e.g. a finding opened after the approval), in the shape of the reasons.",
            ),
        ),
    ]
