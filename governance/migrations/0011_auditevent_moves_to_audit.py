
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0010_audit'),
        ('audit', '0001_initial'),
    ]

    # State only: the table stays and belongs to the audit app from now on.
    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.RemoveIndex(
            model_name='auditevent',
            name='auditevent_object',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='auditevent_parent',
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='auditevent_actor_label',
        ),
        migrations.DeleteModel(
            name='AuditEvent',
        ),])]
