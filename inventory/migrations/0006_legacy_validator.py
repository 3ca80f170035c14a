# ModelVersion.validator is legacy (issue 12): read-only, named before validations were
# recorded and signed. State only: the column stays as it is.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0005_classreg_artifact_link'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='modelversion',
            name='validator',
            field=models.ForeignKey(blank=True, editable=False, help_text="Legacy, read-only: a person named at registration before validations were recorded and signed. Not a validation; still excluded from approving the version's promotions (segregation of duties).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='validated_versions', to=settings.AUTH_USER_MODEL, verbose_name='named validator (legacy)'),
        ),
    ]
