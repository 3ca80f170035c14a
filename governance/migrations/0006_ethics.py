from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_classification_reasons_blank")]

    operations = []
