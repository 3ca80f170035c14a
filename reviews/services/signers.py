"""Who signs, at signing time (issue 12) and the signing lockout (issue 13).

- A RACI change that alters who is Accountable for a sign-off voids the approvals
  already given for that sign-off on the use case's pending requests: each voiding is
  a new ``SignatureVoiding`` row (the signature itself is never changed) and an audit
  event, shown on the request's page and in the API.
- A refused signing attempt leaves an audit event, whatever the reason.
- Wrong signing passwords are counted under a lock, so parallel attempts cannot check
  more passwords than the limit allows.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.sso.signing import (
    BY_PASSWORD,
    Credential,
    Reauthentication,
    credential_refusal,
    provider_reauthentication,
)
from audit.services import audit_record
from core import promotion_rules as rules
from governance.selectors.signers import signer_refusal
from inventory.models import UseCase
from reviews.models import PromotionRequest, Signature, SignatureVoiding, SigningFailure


def _names(ids: list[int]) -> str:
    users = User.objects.filter(pk__in=ids).order_by("username")
    return ", ".join(u.get_username() for u in users) or "nobody"


def signatures_void_for_staffing(
    *,
    use_case: UseCase,
    tasks: list[str],
    before: dict[str, list[int]],
    after: dict[str, list[int]],
    by: User | None,
    what: str,
) -> list[SignatureVoiding]:
    """Void the approvals given for the sign-offs of ``tasks`` on the use case's pending
    requests (registered with ``governance.services.raci.on_signer_staffing_changed``;
    runs in the RACI change's transaction). Returns the voidings written."""
    pending = PromotionRequest.objects.select_for_update().filter(
        model_version__model__use_case=use_case, status=PromotionRequest.Status.PENDING
    )
    signatures = Signature.objects.filter(
        request__in=pending,
        meaning=Signature.Meaning.APPROVED,
        slot__in=tasks,
        voiding__isnull=True,
    ).order_by("pk")
    now = timezone.now()
    out = []
    for signature in signatures:
        task = signature.slot
        label = rules.SLOT_LABELS.get(task, task)
        sentence = (
            f"Who is Accountable for {label} changed ({what}): "
            f"{_names(before.get(task, []))} before, {_names(after.get(task, []))} now."
        )
        voiding = SignatureVoiding.objects.create(
            signature=signature,
            request_id=signature.request_id,
            at=now,
            by=by,
            what=sentence,
            detail={"slot": task, "before": before.get(task, []), "after": after.get(task, [])},
        )
        audit_record(
            action="signature.voided",
            obj=signature.request,
            actor=by,
            reason=sentence,
            changes={"signature": [signature.pk, None], "slot": [task, None]},
        )
        out.append(voiding)
    return out


def signing_refused(*, request: PromotionRequest, by: User, meaning: str, why: str) -> None:
    """Record a refused signing attempt (its own transaction: it survives the refusal)."""
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            obj=request,
            actor=by,
            reason=why,
            changes={"meaning": [None, meaning]},
        )


def _user_event(user: User, action: str, reason: str) -> None:
    audit_record(
        action=action,
        actor=user,
        object_type="auth.user",
        object_id=str(user.pk),
        object_repr=user.get_username(),
        reason=reason,
    )


def _lock_signing(user: User) -> None:
    """Serialise the signing attempts of one user until the transaction ends: an UPDATE
    of the user's row takes its row lock on PostgreSQL and the write lock on SQLite
    (where SELECT ... FOR UPDATE does nothing), so the count of failures and the check
    of the password happen as one step."""
    User.objects.filter(pk=user.pk).update(is_active=F("is_active"))


def check_signing_password(
    user: User,
    password: Credential,
    what: str,
    *,
    approving: bool = True,
    fields: dict | None = None,
) -> Reauthentication:
    """Re-authentication: the password typed now or, for an account that signs in
    through the provider, a re-authentication there for exactly the act ``what`` with
    ``fields`` (``accounts.sso.signing``: raises StepUpRequired until there is one).
    Returns how the signer re-authenticated, for the record. Failures are recorded; once
    ``SIGNING_MAX_FAILURES`` are recorded in the last ``SIGNING_LOCKOUT_MINUTES``,
    signing is locked and no password is checked. Counting, checking and recording
    happen under a per-user lock in their own transaction, so N parallel wrong
    passwords check at most the limit, and the record of a failure survives the
    refusal. An ``approving`` signature is refused first when a signer check refuses
    the user (``governance.selectors.signers``: a lapsed attestation or training).
    Raises PermissionDenied (locked, lapsed) or ValidationError (wrong password)."""
    refusal = credential_refusal(user, password, what, fields) or (
        signer_refusal(user) if approving else None
    )
    if refusal:
        with transaction.atomic():
            _user_event(user, "signature.refused", f"{what}: {refusal}")
        raise PermissionDenied(refusal)
    provider = provider_reauthentication(password, what, fields)
    if provider is not None:
        return provider
    with transaction.atomic():
        _lock_signing(user)
        window = timezone.now() - timedelta(minutes=settings.SIGNING_LOCKOUT_MINUTES)
        recent = SigningFailure.objects.filter(user=user, at__gte=window).count()
        if recent >= settings.SIGNING_MAX_FAILURES:
            why = (
                f"Signing is locked for {settings.SIGNING_LOCKOUT_MINUTES} minutes after "
                f"{recent} wrong passwords."
            )
            _user_event(user, "signature.refused", f"{what}: {why}")
            correct = None
        else:
            correct = bool(password) and user.check_password(password)
            if not correct:
                SigningFailure.objects.create(user=user, at=timezone.now(), what=what[:200])
                _user_event(user, "signature.password_refused", what)
    if correct is None:
        raise PermissionDenied(why)
    if not correct:
        raise ValidationError({"password": "The password is not correct; nothing was signed."})
    return BY_PASSWORD


def request_sign_refusal(*, request: PromotionRequest, by: User, meaning: str = "") -> str | None:
    """Why ``by`` may not sign the request with ``meaning`` (or, when no known meaning
    is given, with any meaning at all), recorded as a refused attempt; None when they
    may. Asked before any password is typed (issue 12)."""
    from reviews.selectors.promotion import request_state

    state = request_state(request)
    if meaning in Signature.Meaning.values:
        why = state.why_cannot_sign(by, meaning)
    elif state.meanings_for(by) or state.why_cannot_sign(by, Signature.Meaning.REVOKED) is None:
        why = None
    else:
        why = state.why_cannot_sign(by, Signature.Meaning.APPROVED)
    if why:
        signing_refused(request=request, by=by, meaning=meaning, why=why)
    return why
