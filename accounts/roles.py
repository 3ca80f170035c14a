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


# Roles that sign, challenge or grant: given to someone only when a second governance
# lead confirms (``accounts.services.role_grant_confirm``). The governance lead role is
# among them, or one lead could make a second, compliant "lead" and confirm alone.
FOUR_EYES_ROLES = frozenset({Role.APPROVER, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD})

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
    # API tokens: listed (never their secret) and revoked; role grants: requested and
    # decided. Nobody deletes either (see accounts/admin.py).
    accounts = Q(content_type__app_label="accounts") & ~Q(codename__startswith="delete_")
    view_only = Permission.objects.filter(governed, codename__startswith="view_")
    grants = {
        Role.GOVERNANCE_LEAD: Permission.objects.filter(governed | people | accounts),
        Role.AUDITOR: view_only,
        Role.RISK_OFFICER: view_only,
        Role.APPROVER: view_only,
        Role.DATA_SCIENTIST: view_only,
    }
    for role, perms in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.set(list(perms))
