"""Accounts' services: API tokens and four-eyes role grants, both paths of each rule."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.middleware import idle_limit_minutes
from accounts.models import ApiToken, RoleGrant
from accounts.roles import FOUR_EYES_ROLES, Role
from accounts.services import (
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_for_user,
    role_changes_check,
    role_grant_confirm,
    role_grant_refuse,
    role_grant_request,
    token_digest,
)
from tests.factories import UserFactory, user_with_role


@pytest.fixture
def second_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead2", is_staff=True)


def test_a_token_keeps_only_the_digest_of_its_secret(approver, settings):
    settings.API_TOKEN_DAYS = 90
    token, secret = api_token_create(user=approver, name="ci")
    assert token.digest == token_digest(secret) and token.prefix == secret[:8]
    assert len(secret) >= 43  # 256 bits
    assert timedelta(days=89) < token.expires - timezone.now() <= timedelta(days=90)


def test_an_inactive_user_gets_no_token(approver):
    approver.is_active = False
    approver.save()
    with pytest.raises(PermissionDenied):
        api_token_create(user=approver)
    assert not ApiToken.objects.exists()


def test_revoking_is_idempotent(approver):
    token, _ = api_token_create(user=approver)
    assert api_token_revoke(token=token, reason="lost laptop") is True
    assert api_token_revoke(token=token, reason="again") is False
    token.refresh_from_db()
    assert token.revoked_reason == "lost laptop"


def test_revoking_a_users_tokens_leaves_others(approver, auditor):
    api_token_create(user=approver)
    api_token_create(user=approver)
    theirs, _ = api_token_create(user=auditor)
    assert api_tokens_revoke_for_user(user=approver, reason="password changed") == 2
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_saving_a_user_without_a_new_password_keeps_tokens(approver):
    token, _ = api_token_create(user=approver)
    approver.first_name = "Renamed"
    approver.save()
    token.refresh_from_db()
    assert token.revoked_at is None
    approver.set_password("a-brand-new-passphrase")
    approver.save()
    token.refresh_from_db()
    assert token.revoked_reason == "password changed"


def test_role_changes_check(governance_lead, data_scientist):
    check = role_changes_check
    check(by=governance_lead, user=data_scientist, before={"data-scientist"}, after=set())
    check(by=governance_lead, user=data_scientist, before=set(), after={Role.AUDITOR})
    for role in FOUR_EYES_ROLES:
        with pytest.raises(ValidationError):
            check(by=governance_lead, user=data_scientist, before=set(), after={role})
    with pytest.raises(PermissionDenied):
        check(by=governance_lead, user=governance_lead, before=set(), after={Role.AUDITOR})
    root = UserFactory(is_superuser=True)
    check(by=root, user=root, before=set(), after={Role.APPROVER})


def test_a_grant_needs_a_lead_a_reason_and_a_new_role(
    governance_lead, data_scientist, approver, second_lead
):
    with pytest.raises(PermissionDenied):
        role_grant_request(by=data_scientist, user=approver, role=Role.RISK_OFFICER, reason="r")
    with pytest.raises(ValidationError):
        role_grant_request(by=governance_lead, user=approver, role=Role.APPROVER, reason="r")
    with pytest.raises(ValidationError):
        role_grant_request(by=governance_lead, user=approver, role=Role.RISK_OFFICER, reason=" ")
    with pytest.raises(ValidationError):
        role_grant_request(by=governance_lead, user=approver, role="root", reason="r")
    role_grant_request(by=governance_lead, user=approver, role=Role.RISK_OFFICER, reason="r")
    with pytest.raises(ValidationError):
        role_grant_request(by=second_lead, user=approver, role=Role.RISK_OFFICER, reason="r")
    assert RoleGrant.objects.count() == 1


def test_a_grant_is_decided_once(governance_lead, second_lead, data_scientist):
    grant = role_grant_request(
        by=governance_lead, user=data_scientist, role=Role.APPROVER, reason="r"
    )
    with pytest.raises(PermissionDenied):
        role_grant_confirm(grant=grant, by=data_scientist)
    role_grant_refuse(grant=grant, by=governance_lead)  # the requester withdraws it
    with pytest.raises(ValidationError):
        role_grant_confirm(grant=grant, by=second_lead)
    assert not data_scientist.groups.filter(name=Role.APPROVER).exists()


def test_idle_limits_by_role(settings, users_by_role):
    settings.SESSION_IDLE_MINUTES_SIGNERS, settings.SESSION_IDLE_MINUTES = 30, 120
    limits = {role: idle_limit_minutes(user) for role, user in users_by_role.items()}
    assert limits == {
        Role.DATA_SCIENTIST: 120,
        Role.AUDITOR: 120,
        Role.RISK_OFFICER: 30,
        Role.APPROVER: 30,
        Role.GOVERNANCE_LEAD: 30,
        Role.VALIDATOR: 30,
    }
