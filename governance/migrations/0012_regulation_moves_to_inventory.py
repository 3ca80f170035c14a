import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0011_auditevent_moves_to_audit'),
        ('inventory', '0003_regulation_moves_to_inventory'),
    ]

    # State only: Regulation belongs to the inventory app from now on; its table stays.
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.AlterField(
            model_name='requirement',
            name='regulation',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='requirements', to='inventory.regulation'),
        ),
        migrations.DeleteModel(
            name='Regulation',
        ),
        ]),
    ]
