"""Who reads the KPIs and the framework reviews (risk officers, governance leads,
auditors) and who writes the reviews (governance leads)."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from accounts.permissions import AnyUser, has_role, is_governance_lead
from accounts.roles import Role
from accounts.web import role_required

READERS: tuple[str, ...] = (Role.RISK_OFFICER, Role.GOVERNANCE_LEAD, Role.AUDITOR)


def can_read_oversight(user: AnyUser) -> bool:
    return has_role(user, *READERS)


def can_write_reviews(user: AnyUser) -> bool:
    return is_governance_lead(user)


def reader_required(view):
    """Signed in, with a role, and one of the readers' roles (else 403 with the reason)."""

    @role_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_read_oversight(request.user):
            raise PermissionDenied(
                "The governance KPIs and framework reviews are for risk officers, "
                "governance leads and auditors."
            )
        return view(request, *args, **kwargs)

    return wrapper
