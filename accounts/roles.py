"""The product's roles and the model permissions behind each, for the admin site.

Roles are Django groups (created by ``governance/migrations/0003_roles``).
``sync_role_permissions`` runs after every ``migrate`` (post_migrate), so models added
later are covered.
Object-level rules (which team's rows) are enforced by services and
``inventory/permissions.py``, not by these model permissions.
"""

from django.db import models


class Role(models.TextChoices):
    """The product's roles; each is a Django group created by a migration."""

    RISK_OFFICER = "risk-officer", "Risk officer"
    GOVERNANCE_LEAD = "governance-lead", "Governance lead"
    DATA_SCIENTIST = "data-scientist", "Data scientist"
    APPROVER = "approver", "Approver"
    AUDITOR = "auditor", "Auditor"


GOVERNED_APPS = (
    "audit",
    "governance",
    "inventory",
    "reviews",
    "fairness",
    "monitoring",
    "experiments",
    "notifications",
)


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
