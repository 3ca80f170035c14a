# A risk acceptance of a validation finding is a signed act (issue 12): a Signature of
# meaning "risk accepted" points at it. Acceptances recorded before have none.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0009_validation_validations'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='signature',
            name='signature_has_subject',
        ),
        migrations.AlterField(
            model_name='signature',
            name='meaning',
            field=models.CharField(choices=[('reviewed', 'Reviewed'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('revoked', 'Approval revoked'), ('periodic_review', 'Periodic review'), ('protocol_locked', 'Experiment protocol signed and locked'), ('result_signed', 'Experiment result signed'), ('validated', 'Validated'), ('risk_accepted', 'Risk accepted until a date')], max_length=20),
        ),
        migrations.AddField(
            model_name='signature',
            name='finding_acceptance',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='signature', to='reviews.findingacceptance'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('meaning__in', ['reviewed', 'approved', 'rejected', 'revoked']), ('request__isnull', False)), ('periodic_review__isnull', False), models.Q(('experiment__isnull', False), ('meaning__in', ['protocol_locked', 'result_signed'])), models.Q(('meaning', 'validated'), ('validation__isnull', False)), models.Q(('finding_acceptance__isnull', False), ('meaning', 'risk_accepted')), _connector='OR'), name='signature_has_subject'),
        ),
    ]
