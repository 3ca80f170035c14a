from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0006_bias_monitoring_experiments_move_out"),
        ("notifications", "0001_initial"),
    ]

    # State only: the outbox belongs to the notifications app from now on; its table stays.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")]
        ),
    ]
