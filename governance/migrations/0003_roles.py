"""Create the product's roles as groups. Their model permissions (used by the admin
site) are kept in step by governance.roles.sync_role_permissions after every migrate."""

from django.db import migrations

ROLES = ["risk-officer", "governance-lead", "data-scientist", "approver", "auditor"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
