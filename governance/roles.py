"""Model permissions behind each role, for the admin site.

Run after every ``migrate`` (post_migrate), so models added later are covered.
Object-level rules (which team's rows) are enforced by services and
``inventory/permissions.py``, not by these model permissions.
"""

from governance.choices import Role

GOVERNED_APPS = ("governance", "inventory", "reviews")


def sync_role_permissions(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    governed = Q(content_type__app_label__in=GOVERNED_APPS)
    people = Q(content_type__app_label="auth", codename__in=["view_user", "change_user"])
    tokens = Q(content_type__app_label="authtoken")
    view_only = Permission.objects.filter(governed, codename__startswith="view_")
    grants = {
        Role.GOVERNANCE_LEAD: Permission.objects.filter(governed | people | tokens),
        Role.AUDITOR: view_only,
        Role.RISK_OFFICER: view_only,
        Role.APPROVER: view_only,
        Role.DATA_SCIENTIST: view_only,
    }
    for role, perms in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.set(list(perms))
