from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_raci")]

    operations = []
