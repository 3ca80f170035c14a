# The JSON profile, moved into the summary and the parts by 0003.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_reference_profile_parts_data"),
    ]

    operations = [
        migrations.RemoveField(model_name="referenceprofile", name="profile"),
    ]
