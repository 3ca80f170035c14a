"""Re-authentication for the framework's signatures (four eyes on policy, rules and
the ethical position): the password typed now, and a lockout after too many wrong ones.

The same pattern as the sign-off workflow's (``reviews``, a higher layer this one
cannot import): a refused password is an audit event ``signature.password_refused``,
and the lockout counts those events, so wrong passwords typed on a sign-off count
here too.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.sso.signing import (
    BY_PASSWORD,
    Credential,
    Reauthentication,
    credential_refusal,
    provider_reauthentication,
)
from audit.models import AuditEvent
from audit.services import audit_record
from governance.selectors.signers import signer_refusal

PASSWORD_REFUSED = "signature.password_refused"  # noqa: S105 (an audit action name)
# Every refusal this module records; the lockout counts them all, so wrong passwords on
# one kind of signed act (a framework decision, a classification confirmation) count
# towards the others.
REFUSAL_ACTIONS = (
    PASSWORD_REFUSED,
    "classification.password_refused",
    "change_declaration.password_refused",
)


def printed_name(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def reauthentication_record(
    reauth: Reauthentication, *, obj, by: User, signature: int | None = None
) -> None:
    """Record on ``obj`` how a signer re-authenticated at the provider (issuer, subject,
    ``auth_time``) for ``signature``; nothing for a password (the signature says it).
    Call it in the signed act's transaction."""
    if reauth.by_provider:
        audit_record(
            action="signature.reauthenticated",
            obj=obj,
            actor=by,
            changes={"signature": [None, signature], **reauth.changes()},
        )


def password_reconfirm(
    *,
    user: User,
    password: Credential,
    what: str,
    via_token: bool = False,
    refused_action: str = PASSWORD_REFUSED,
    approving: bool = True,
    fields: dict | None = None,
) -> Reauthentication:
    """Check the password typed now or, for an account that signs in through the
    provider, its re-authentication there for exactly ``what`` with ``fields``
    (``accounts.sso.signing``: raises StepUpRequired until there is one). Returns how
    the signer re-authenticated. Call it outside the transaction of the signed act, so
    that the record of a refusal survives the refusal.

    Raises PermissionDenied for an API-token call (a token can never sign), while
    signing is locked, or (``approving``) when a signer check refuses the user (a lapsed
    attestation or training: ``governance.selectors.signers``, recorded);
    ValidationError (under ``password``) for a wrong password, after recording it.
    """
    if via_token:
        raise PermissionDenied(
            "An API token cannot sign: sign in the browser and re-enter your password."
        )
    refusal = credential_refusal(user, password, what, fields) or (
        signer_refusal(user) if approving else None
    )
    if refusal:
        with transaction.atomic():
            audit_record(
                action="signature.refused",
                actor=user,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=user.get_username(),
                reason=f"{what}: {refusal}",
            )
        raise PermissionDenied(refusal)
    provider = provider_reauthentication(password, what, fields)
    if provider is not None:
        return provider
    window = timezone.now() - timedelta(minutes=settings.SIGNING_LOCKOUT_MINUTES)
    recent = AuditEvent.objects.filter(
        action__in=REFUSAL_ACTIONS, actor=user, occurred_at__gte=window
    ).count()
    if recent >= settings.SIGNING_MAX_FAILURES:
        raise PermissionDenied(
            f"Signing is locked for {settings.SIGNING_LOCKOUT_MINUTES} minutes after "
            f"{recent} wrong passwords."
        )
    if not password or not user.check_password(password):
        with transaction.atomic():
            audit_record(
                action=refused_action,
                actor=user,
                object_type="auth.user",
                object_id=str(user.pk),
                object_repr=user.get_username(),
                reason=what,
            )
        raise ValidationError({"password": "The password is not correct; nothing was signed."})
    return BY_PASSWORD
