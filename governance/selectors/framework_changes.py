"""Reads of the four-eyes proposals on the framework (policy, rules, ethical position)."""

from django.db.models import QuerySet

from accounts.permissions import AnyUser, has_any_role
from governance.models import FrameworkChange


def framework_change_list(*, user: AnyUser, status: str | None = None) -> QuerySet:
    """Every proposal, newest first, for anyone with a governance role (empty for
    others); ``status`` pending narrows to the undecided ones."""
    if not has_any_role(user):
        return FrameworkChange.objects.none()
    qs = FrameworkChange.objects.select_related(
        "proposed_by", "decision__by", "policy_version__policy", "risk_rule", "answer_set"
    )
    if status == "pending":
        qs = qs.filter(decision__isnull=True)
    elif status:
        qs = qs.filter(decision__outcome=status)
    return qs


def framework_change_get(*, user: AnyUser, pk: int) -> FrameworkChange:
    """Raises FrameworkChange.DoesNotExist when missing or invisible."""
    return framework_change_list(user=user).get(pk=pk)
