"""Four eyes on the framework (issue 12): publishing an ethics questionnaire version is a
proposal too; the catalogue kind now also covers regulations and RACI roles."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0024_sector_purpose_question"),
    ]

    operations = [
        migrations.AlterField(
            model_name="frameworkchange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("policy_publish", "Publish a policy version"),
                    ("risk_rule_add", "Add a classification rule"),
                    ("risk_rule_edit", "Edit a classification rule"),
                    ("risk_rule_activate", "Activate a classification rule"),
                    ("risk_rule_deactivate", "Deactivate a classification rule"),
                    ("ethics_position", "Change the organisation's ethical position"),
                    (
                        "catalogue_edit",
                        "Change the catalogue (measures, requirements, regulations, "
                        "questionnaire, RACI)",
                    ),
                    ("ethics_publish", "Publish an ethics questionnaire version"),
                ],
                max_length=30,
            ),
        ),
    ]
