"""Roles and the checks built on them.

Roles are Django groups (created by ``governance/migrations/0002_roles``). A
superuser counts as a governance lead. Object-level rules for inventory rows are
in ``inventory/permissions.py``.
"""

from django.contrib.auth.models import AnonymousUser, User
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import SECOND_LINE, Role

AnyUser = User | AnonymousUser


def user_roles(user: AnyUser) -> frozenset[str]:
    """The role codes a user holds, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_governance_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.GOVERNANCE_LEAD)
        cached = frozenset(names)
        user._governance_roles = cached
    return cached


def has_role(user: AnyUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def has_any_role(user: AnyUser) -> bool:
    return bool(user_roles(user))


def is_governance_lead(user: AnyUser) -> bool:
    return has_role(user, Role.GOVERNANCE_LEAD)


def is_second_line(user: AnyUser) -> bool:
    """Risk officers and governance leads: they decide who signs (issue 12)."""
    return has_role(user, *SECOND_LINE)


class HasGovernanceRole(BasePermission):
    """Default API permission: signed in and holding one of the product's roles.

    Auditors and approvers are read-only everywhere in the API.
    """

    message = "You need a governance role to use this API."

    def has_permission(self, request, view) -> bool:
        roles = user_roles(request.user)
        if not roles:
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(roles - {Role.AUDITOR, Role.APPROVER})


class IsGovernanceLeadOrReadOnly(BasePermission):
    """Anyone with a role reads; only governance leads write."""

    message = "Only governance leads can change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_any_role(request.user)
        return is_governance_lead(request.user)
