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
    VALIDATOR = "validator", "Validator"


# Who may sign is a second-line decision (issue 12). The RACI roles (by code) that
# carry approval or challenge duties, and the product roles a person must hold to be
# named for one: any of them. Only the second line names people for these roles or
# edits their columns, and only the second line edits the rows of the signing tasks.
APPROVAL_RACI_ROLES: dict[str, tuple[str, ...]] = {
    "risk-audit": (Role.RISK_OFFICER,),
    "production": (Role.APPROVER,),
    # Independent validation (SR 11-7 effective challenge): who may validate the use
    # case's versions, when the second line names anyone (reviews.selectors.validation).
    "validation": (Role.VALIDATOR,),
}
# The RACI tasks whose Accountable fills a sign-off slot (core.promotion_rules'
# SLOT_TASKS), and the product role the signer must hold when signing. A validation is
# signed on its own record, not in a request's slot: its signer's role is checked by
# ``reviews.services.validation`` (VALIDATION_ROLES), and the RACI's Validation column
# (above) is the second line's to staff.
SIGNING_TASK_ROLES: dict[str, tuple[str, ...]] = {
    "model-acceptance": (Role.RISK_OFFICER,),
    "deployments": (Role.APPROVER,),
}
VALIDATION_ROLES: tuple[str, ...] = (Role.VALIDATOR,)
# The second line: decides who signs, challenges the first line.
SECOND_LINE: tuple[str, ...] = (Role.RISK_OFFICER, Role.GOVERNANCE_LEAD)
# The roles that give signatures on a promotion request at all. Auditors read and change
# nothing; data scientists (the first line) ask for promotions and do not sign them.
SIGNING_ROLES: tuple[str, ...] = (Role.RISK_OFFICER, Role.APPROVER, Role.GOVERNANCE_LEAD)


def role_names(codes) -> str:
    """'risk officer or approver' for people."""
    labels = dict(Role.choices)
    return " or ".join(str(labels.get(c, c)).lower() for c in codes)


# Roles that sign, challenge or grant: given to someone only when a second governance
# lead confirms (``accounts.services.role_grant_confirm``). The governance lead role is
# among them, or one lead could make a second, compliant "lead" and confirm alone.
FOUR_EYES_ROLES = frozenset(
    {Role.APPROVER, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD, Role.VALIDATOR}
)

GOVERNED_APPS = (
    "audit",
    "governance",
    "inventory",
    "engagement",
    "reviews",
    "fairness",
    "monitoring",
    "experiments",
    "notifications",
    "documents",
    "oversight",
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
        Role.VALIDATOR: view_only,
    }
    for role, perms in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.set(list(perms))
