# The four-eyes e-mail of a framework proposal (governance.services.framework_emails)
# becomes one of the outbox's named kinds; choices only, no change to the table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0007_audit_anchor_kind'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('approval_requested', 'Approval requested'), ('reminder', 'Reminder'), ('escalation', 'Escalation'), ('decision', 'Decision'), ('review_overdue', 'Periodic review overdue'), ('experiment_ended', 'Experiment ended'), ('experiment_analysed', 'Experiment analysed'), ('drift_alert', 'Monitoring alert'), ('obligations_assigned', 'Obligations assigned'), ('obligation_overdue', 'Obligation overdue'), ('obligation_escalated', 'Obligation overdue (escalated)'), ('audit_anchor', 'Audit trail anchor'), ('framework_change_proposed', 'Framework change proposed')], max_length=40),
        ),
    ]
