"""Writes of accounts: API tokens and four-eyes role grants.

The audit trail records these rows' creates and updates (registered in
``governance/audit_hooks.py``; accounts sits below the audit app and cannot call it),
so every token issued or revoked and both steps of a role grant are attributable.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, RoleGrant
from accounts.permissions import is_governance_lead
from accounts.roles import FOUR_EYES_ROLES, Role

# --- API tokens ------------------------------------------------------------------------


def token_digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token's secret is stored. The secret has 256
    bits of entropy, so a plain hash (no salt, no stretching) cannot be reversed."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue a new token to ``user``; returns the row and its secret, which is shown
    once and never stored. Expires after ``API_TOKEN_DAYS`` days.

    Raises PermissionDenied for an inactive user."""
    if not user.is_active:
        raise PermissionDenied("This account is inactive.")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        prefix=secret[:8],
        digest=token_digest(secret),
        name=name[:100],
        expires=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, reason: str) -> bool:
    """Revoke one token (idempotent: False when it was already revoked)."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.revoked_reason = reason[:200]
    token.save(update_fields=["revoked_at", "revoked_reason"])
    return True


@transaction.atomic
def api_tokens_revoke_for_user(*, user: User, reason: str) -> int:
    """Revoke every live token of ``user`` (after a password change); returns how many.
    One save per token, so each revocation is in the audit trail."""
    revoked = 0
    for token in ApiToken.objects.select_for_update().filter(user=user, revoked_at=None):
        revoked += api_token_revoke(token=token, reason=reason)
    return revoked


def api_token_touch(*, token: ApiToken) -> None:
    """Note that a token was used, at most once a minute (a bulk update: bookkeeping,
    not a governed change, so it is not in the audit trail)."""
    now = timezone.now()
    if token.last_used is None or now - token.last_used > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


# --- Role grants (four-eyes) -----------------------------------------------------------


def role_changes_check(*, by: User, user: User, before: set[str], after: set[str]) -> None:
    """Whether ``by`` may change ``user``'s roles from ``before`` to ``after`` directly
    (the admin's user form). Removing roles is always allowed. Superusers are the
    break-glass path and may do anything (audited as such by the admin).

    Raises PermissionDenied when a lead adds any role to themselves, ValidationError
    when a lead adds an approval role (those need a role grant confirmed by a second
    governance lead)."""
    if by.is_superuser:
        return
    added = set(after) - set(before)
    if not added:
        return
    if user.pk == by.pk:
        raise PermissionDenied("You cannot give yourself a role; another governance lead must.")
    needs_second = sorted(Role(code).label for code in added & FOUR_EYES_ROLES)
    if needs_second:
        raise ValidationError(
            {
                "groups": (
                    f"{', '.join(needs_second)}: an approval role is granted only with a "
                    "second governance lead's confirmation. Request it under "
                    "Accounts › Role grants."
                )
            }
        )


def _require_lead(by: User) -> None:
    if not by.is_active or not is_governance_lead(by):
        raise PermissionDenied("Only governance leads handle role grants.")


@transaction.atomic
def role_grant_request(*, by: User, user: User, role: str, reason: str) -> RoleGrant:
    """Step one of a four-eyes role grant: ``by`` asks for ``user`` to get ``role``.

    Raises PermissionDenied if ``by`` is not a governance lead or asks for themselves;
    ValidationError if the role is unknown, already held or already requested."""
    _require_lead(by)
    if user.pk == by.pk:
        raise PermissionDenied("You cannot request a role for yourself; another lead must.")
    if role not in Role.values:
        raise ValidationError({"role": "Unknown role."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why this person needs the role."})
    if user.groups.filter(name=role).exists():
        raise ValidationError({"role": f"{user} already holds this role."})
    if RoleGrant.objects.filter(user=user, role=role, status=RoleGrant.Status.PENDING).exists():
        raise ValidationError({"role": f"A grant of this role to {user} is already waiting."})
    grant = RoleGrant(user=user, role=role, reason=reason.strip(), requested_by=by)
    grant.full_clean()
    grant.save()
    return grant


def _pending(grant: RoleGrant) -> RoleGrant:
    grant = RoleGrant.objects.select_for_update().select_related("user").get(pk=grant.pk)
    if grant.status != RoleGrant.Status.PENDING:
        raise ValidationError(f"This grant is already {grant.get_status_display().lower()}.")
    return grant


@transaction.atomic
def role_grant_confirm(*, grant: RoleGrant, by: User) -> RoleGrant:
    """Step two: a second governance lead confirms; the person joins the role's group.

    Raises PermissionDenied if ``by`` is not a lead, requested the grant, or is the
    person it is for; ValidationError if the grant is no longer pending."""
    _require_lead(by)
    grant = _pending(grant)
    if by.pk == grant.requested_by_id:
        raise PermissionDenied(
            "The lead who requested a grant cannot confirm it: a second lead must."
        )
    if by.pk == grant.user_id:
        raise PermissionDenied("You cannot confirm a role grant made to yourself.")
    grant.status = RoleGrant.Status.CONFIRMED
    grant.decided_by = by
    grant.decided_at = timezone.now()
    grant.full_clean()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    group, _ = Group.objects.get_or_create(name=grant.role)
    grant.user.groups.add(group)
    return grant


@transaction.atomic
def role_grant_refuse(*, grant: RoleGrant, by: User) -> RoleGrant:
    """A governance lead (the requester too, to withdraw it) refuses a pending grant.

    Raises PermissionDenied if ``by`` is not a lead or the person it is for."""
    _require_lead(by)
    grant = _pending(grant)
    if by.pk == grant.user_id:
        raise PermissionDenied("You cannot decide a role grant made to yourself.")
    grant.status = RoleGrant.Status.REFUSED
    grant.decided_by = by
    grant.decided_at = timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    return grant
