"""Helpers for tests that need a framework change in effect: one lead proposes, a
second signs the approval with their password (the only way a change takes effect)."""

from django.contrib.auth.models import User

from accounts.roles import Role
from governance.models import EthicsApproval, EthicsTemplateVersion, PolicyVersion
from governance.services import ethics_position_approve
from governance.services.framework_changes import (
    ethics_version_publish_propose,
    framework_change_approve,
    policy_publish_propose,
)
from tests.factories import PASSWORD, user_with_role


def other_lead(username: str = "lead2") -> User:
    """A second governance lead (created once per test database)."""
    return User.objects.filter(username=username).first() or user_with_role(
        Role.GOVERNANCE_LEAD, username=username, is_staff=True
    )


def policy_publish(
    *, version: PolicyVersion, by: User, note: str, approver: User | None = None
) -> PolicyVersion:
    """Propose a draft as ``by`` and approve it as another lead; returns it published."""
    change = policy_publish_propose(version=version, by=by, note=note)
    framework_change_approve(change=change, by=approver or other_lead(), password=PASSWORD)
    return PolicyVersion.objects.get(pk=version.pk)


def position_approve(*, answer_set, by: User, note: str = "") -> EthicsApproval:
    """Sign the approval of a proposed organisation position as ``by``."""
    return ethics_position_approve(answer_set=answer_set, by=by, password=PASSWORD, note=note)


def ethics_publish(
    *, version: EthicsTemplateVersion, by: User, note: str = "New version."
) -> EthicsTemplateVersion:
    """Propose publishing a questionnaire draft as ``by`` and approve it as another lead;
    returns it published."""
    change = ethics_version_publish_propose(version=version, by=by, note=note)
    approver = other_lead() if by.username != "lead2" else other_lead("lead3")
    framework_change_approve(change=change, by=approver, password=PASSWORD)
    return EthicsTemplateVersion.objects.get(pk=version.pk)
