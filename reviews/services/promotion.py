"""Writes of the sign-off workflow: requests, electronic signatures, waivers,
findings, periodic reviews and the deployment gate's log.

Every write checks permissions and rules first, happens in one transaction with the
request row locked, and records an audit event. E-mails go out after commit.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import Role
from accounts.sso.signing import Credential, Reauthentication
from audit.services import audit_record
from core import promotion_rules as rules
from governance.selectors.obligations import obligations_for_rules
from governance.selectors.signers import signer_refusal
from governance.services import obligation_signoff_satisfied, obligations_recompute
from governance.services.signing import reauthentication_record
from inventory.models import ModelVersion
from inventory.services import model_version_move
from reviews import permissions
from reviews.models import (
    BlockingWaiver,
    PeriodicReview,
    PromotionRequest,
    Signature,
)
from reviews.selectors import promotion as sel
from reviews.selectors.validation import is_validation_item
from reviews.services.signers import check_signing_password, signing_refused


def _audit(action: str, obj, *, by: User | None, reason: str = "", **changes: Any) -> None:
    audit_record(
        action=action,
        obj=obj,
        actor=by,
        reason=reason,
        changes={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
    )


# What a signature on a promotion request may mean (the others belong to periodic
# reviews and experiments).
REQUEST_MEANINGS = (
    Signature.Meaning.REVIEWED,
    Signature.Meaning.APPROVED,
    Signature.Meaning.REJECTED,
    Signature.Meaning.REVOKED,
)


def printed_name(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


# --- Requests ------------------------------------------------------------------------------


@transaction.atomic
def request_create(
    *,
    version: ModelVersion,
    by: User,
    kind: str = rules.PROMOTE,
    justification: str,
    to_environment: str | None = None,
) -> PromotionRequest:
    """Ask to move ``version`` one step (promote / rollback) or to retire it."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if not permissions.can_request(by, version, kind):
        raise PermissionDenied("You may not ask to move this version.")
    justification = (justification or "").strip()
    if not justification:
        raise ValidationError({"justification": "Say why the version should move."})
    try:
        target = rules.check_target(kind, version.environment, to_environment)
    except rules.MoveError as exc:
        raise ValidationError({"to_environment": str(exc)}) from exc
    use_case = version.model.use_case
    # The version owes its own obligations (issue 12): open any not opened yet (a
    # version registered before the policy or classification, or outside the service).
    obligations_recompute(use_case=use_case, by=None, reason=f"Request for {version}.")
    signoff = obligations_for_rules(use_case=use_case, version=version).get("human-signoff")
    required = rules.signoffs_required(kind, version.environment, target, signoff)
    request = PromotionRequest(
        model_version=version,
        kind=kind,
        from_environment=version.environment,
        to_environment=target,
        justification=justification,
        requested_by=by,
        requested_at=timezone.now(),
        required_signoffs=required,
        slots=rules.slots_for(kind, required),
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:
        raise ValidationError(
            "This version already has a pending request; decide or withdraw it first."
        ) from exc
    _audit(
        "promotion.requested",
        request,
        by=by,
        reason=justification,
        move=(request.from_environment, request.to_environment),
        required_signoffs=(None, required),
    )
    state = sel.request_state(request)
    if required == 0 and not state.unwaived:
        _approve(request, by=None, why="The policy requires no sign-off for this move.")
    else:
        from reviews.services.notifications import notify_signers

        notify_signers(request, kind="approval_requested")
    return request


def _approve(request: PromotionRequest, *, by: User | None, why: str) -> None:
    request.status = PromotionRequest.Status.APPROVED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    model_version_move(version=request.model_version, to_environment=request.to_environment)
    if request.kind == rules.PROMOTE:
        # The sign-off obligation is met by the signatures themselves (issue 12).
        obligation_signoff_satisfied(version=request.model_version, request_id=request.pk)
    _audit(
        "promotion.approved",
        request,
        by=by,
        reason=why,
        status=("pending", "approved"),
        environment=(request.from_environment, request.to_environment),
    )
    from reviews.services.notifications import notify_requester

    notify_requester(request)


def _locked(request: PromotionRequest) -> PromotionRequest:
    return (
        PromotionRequest.objects.select_for_update()
        .select_related("model_version__model__use_case")
        .get(pk=request.pk)
    )


@transaction.atomic
def request_withdraw(*, request: PromotionRequest, by: User, reason: str) -> PromotionRequest:
    request = _locked(request)
    if by.pk != request.requested_by_id and not permissions.can_waive(by):
        raise PermissionDenied("Only the requester or a governance lead can withdraw a request.")
    if not request.is_pending:
        raise ValidationError("Only a pending request can be withdrawn.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the request is withdrawn."})
    request.status = PromotionRequest.Status.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    _audit("promotion.withdrawn", request, by=by, reason=reason, status=("pending", "withdrawn"))
    return request


@transaction.atomic
def blocking_waive(
    *, request: PromotionRequest, by: User, code: str, reason: str
) -> BlockingWaiver:
    """Let the request be approved despite one blocking item (governance leads only)."""
    request = _locked(request)
    if not permissions.can_waive(by):
        raise PermissionDenied("Only a governance lead can waive a blocking item.")
    lapsed = signer_refusal(by)  # a waiver may be what approves the request
    if lapsed:
        raise PermissionDenied(lapsed)
    if not request.is_pending:
        raise ValidationError("Only a pending request's blocking items can be waived.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "A waiver needs a reason."})
    state = sel.request_state(request)
    item = next((b.item for b in state.unwaived if b.item.code == code), None)
    if item is None:
        raise ValidationError(
            {"code": f"{code!r} is not an unwaived blocking item of this request."}
        )
    if code.startswith("classification:"):
        # The second line's confirmation and what the data contradicts are settled on the
        # classification itself (the gate checks them again); a waiver cannot stand in.
        raise ValidationError(
            {
                "code": "A classification item is not waived: correct the classification "
                "or have a risk officer confirm it."
            }
        )
    if code.startswith("ethics:"):
        # The Accountable's signed acceptance is the judgement of a deviation (the gate
        # checks it again); a prohibited harm is never accepted.
        raise ValidationError(
            {
                "code": "An ethics deviation is not waived: its Accountable of model "
                "acceptance accepts it (signed, with an expiry), or the use case changes."
            }
        )
    if is_validation_item(code):
        raise ValidationError(
            {
                "code": "A validation item is not waived: a validator signs a validation, and "
                "a validation finding is resolved or its risk accepted until a date."
            }
        )
    waiver = BlockingWaiver.objects.create(
        request=request, code=code, message=item.message, reason=reason, by=by, at=timezone.now()
    )
    _audit("promotion.blocking_waived", request, by=by, reason=reason, waived=(None, code))
    if request.required_signoffs == 0 and not sel.request_state(request).unwaived:
        _approve(request, by=by, why="The last blocking item was waived; no sign-off is required.")
    return waiver


# --- Electronic signatures ---------------------------------------------------------------------


def _check_password(
    user: User, password: Credential, what: str, *, approving: bool = True, fields=None
) -> Reauthentication:
    """Re-authentication: the password typed now (too many wrong ones lock signing,
    atomically) or the provider's for an SSO signer: see
    ``reviews.services.signers.check_signing_password``."""
    return check_signing_password(user, password, what, approving=approving, fields=fields)


def request_sign(
    *,
    request: PromotionRequest,
    by: User,
    password: Credential,
    meaning: str,
    reason: str = "",
    via_token: bool = False,
) -> Signature:
    """Sign a request: reviewed, approved, rejected, or (governance lead) revoke its
    approval. Needs the password typed now; an API token can never sign. A refusal
    (PermissionDenied) is decided before the password is checked and leaves an audit
    event."""
    if via_token:
        why = "An API token cannot sign: sign in the browser and re-enter your password."
        signing_refused(request=request, by=by, meaning=meaning, why=why)
        raise PermissionDenied(why)
    reason = request_sign_precheck(request=request, by=by, meaning=meaning, reason=reason)
    reauth = _check_password(
        by,
        password,
        f"sign request #{request.pk} as {meaning}",
        approving=meaning in (Signature.Meaning.APPROVED, Signature.Meaning.REVIEWED),
        fields={"reason": reason},
    )
    try:
        with transaction.atomic():
            signature = _sign(
                request=request, by=by, meaning=meaning, reason=reason, auth_method=reauth.method
            )
            reauthentication_record(reauth, obj=request, by=by, signature=signature.pk)
        return signature
    except PermissionDenied as exc:
        signing_refused(request=request, by=by, meaning=meaning, why=str(exc))
        raise


def request_sign_precheck(*, request: PromotionRequest, by: User, meaning: str, reason: str) -> str:
    """What is checked before any re-authentication (password or provider): the meaning,
    who may sign (issue 12; again under the request's lock when signing), a reason
    where one is needed. Returns the reason stripped; a refusal is audited.
    Raises ValidationError or PermissionDenied."""
    if meaning not in REQUEST_MEANINGS:
        raise ValidationError({"meaning": "Sign as reviewed, approved, rejected or revoked."})
    why = sel.request_state(request).why_cannot_sign(by, meaning)
    if why:
        signing_refused(request=request, by=by, meaning=meaning, why=why)
        raise PermissionDenied(why)
    reason = (reason or "").strip()
    if meaning in (Signature.Meaning.REJECTED, Signature.Meaning.REVOKED) and not reason:
        raise ValidationError({"reason": "A rejection or a revocation needs a reason."})
    return reason


def sign_unchecked(
    *, request: PromotionRequest, by: User, meaning: str, reason: str = "", auth_method: str
) -> Signature:
    """Sign without re-entering a password, recording ``auth_method`` honestly on the
    signature. For the demo loader only; no page or endpoint calls it."""
    return _sign(request=request, by=by, meaning=meaning, reason=reason, auth_method=auth_method)


@transaction.atomic
def _sign(
    *,
    request: PromotionRequest,
    by: User,
    meaning: str,
    reason: str,
    auth_method: str = "password re-entry",
) -> Signature:
    request = _locked(request)
    state = sel.request_state(request)
    why_not = state.why_cannot_sign(by, meaning)
    if why_not:
        raise PermissionDenied(why_not)
    slot = state.slot_for(by) if meaning == Signature.Meaning.APPROVED else ""
    signature = Signature.objects.create(
        request=request,
        signer=by,
        printed_name=printed_name(by),
        signed_at=timezone.now(),
        meaning=meaning,
        slot=slot or "",
        reason=reason,
        manifest=state.manifest,
        manifest_hash=state.manifest_hash,
        auth_method=auth_method,
    )
    _audit(
        f"signature.{meaning}",
        request,
        by=by,
        reason=reason,
        signature=(None, signature.pk),
        manifest_hash=(None, state.manifest_hash),
    )
    if meaning == Signature.Meaning.REJECTED:
        request.status = PromotionRequest.Status.REJECTED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        _audit("promotion.rejected", request, by=by, reason=reason, status=("pending", "rejected"))
        from reviews.services.notifications import notify_requester

        notify_requester(request)
    elif meaning == Signature.Meaning.REVOKED:
        request.status = PromotionRequest.Status.REVOKED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        _audit("promotion.revoked", request, by=by, reason=reason, status=("approved", "revoked"))
        from reviews.services.notifications import notify_requester

        notify_requester(request)
    elif meaning == Signature.Meaning.APPROVED:
        after = sel.request_state(request)
        if after.approvable:
            _approve(request, by=by, why="Every required sign-off is given.")
    return signature


# --- Periodic reviews ---------------------------------------------------------------------------


def review_manifest(version: ModelVersion) -> dict[str, Any]:
    return {
        "model_version": version.pk,
        "version_label": version.version_label,
        "artifact_sha256": version.artifact_sha256,
        "environment": version.environment,
        "obligations": [
            {"key": o.consideration.code, "id": o.pk, "level": o.level, "status": o.status}
            for o in sel.active_obligations(version.model.use_case, version)
        ],
        "findings": [
            {"key": f"#{f.pk}", "status": "open", "title": f.title}
            for f in sel.open_findings(version).order_by("pk")
        ],
    }


def can_sign_review(user: User, version: ModelVersion) -> str | None:
    """None when the user may sign the version's periodic review, else why not: risk
    officers and governance leads, never an author. Being Accountable for model
    acceptance in the RACI is not enough without the role (issue 12: signing checks the
    signer's role, so a team-mate made Accountable cannot clear an overdue review)."""
    if user.pk in set(version.authors.values_list("pk", flat=True)):
        return "An author cannot review their own version."
    if has_role(user, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD):
        return None
    return (
        "Only risk officers and governance leads sign periodic reviews (the model-acceptance "
        "Accountable signs them holding the risk officer role)."
    )


def periodic_review_sign(
    *,
    version: ModelVersion,
    by: User,
    password: Credential,
    outcome: str,
    note: str,
    via_token=False,
) -> PeriodicReview:
    """Sign a periodic review of a version in production, with the password typed now."""
    if via_token:
        raise PermissionDenied("An API token cannot sign.")
    _review_checks(version=version, by=by, outcome=outcome, note=note)
    reauth = _check_password(
        by,
        password,
        f"sign the periodic review of version {version.pk}",
        fields={"outcome": outcome, "note": note.strip()},
    )
    with transaction.atomic():
        review = _review(
            version=version, by=by, outcome=outcome, note=note.strip(), auth_method=reauth.method
        )
        reauthentication_record(reauth, obj=version, by=by)
    return review


def periodic_review_sign_unchecked(
    *, version: ModelVersion, by: User, outcome: str, note: str, auth_method: str
) -> PeriodicReview:
    """For the demo loader only (see ``sign_unchecked``)."""
    _review_checks(version=version, by=by, outcome=outcome, note=note)
    return _review(
        version=version, by=by, outcome=outcome, note=note.strip(), auth_method=auth_method
    )


def _review_checks(*, version: ModelVersion, by: User, outcome: str, note: str) -> None:
    if outcome not in PeriodicReview.Outcome.values:
        raise ValidationError({"outcome": "Choose satisfactory or findings."})
    if not (note or "").strip():
        raise ValidationError({"note": "Summarise the review."})
    if version.environment != "prod":
        raise ValidationError("Only a version in production is periodically reviewed.")
    why = can_sign_review(by, version)
    if why:
        raise PermissionDenied(why)


@transaction.atomic
def _review(
    *, version: ModelVersion, by: User, outcome: str, note: str, auth_method="password re-entry"
) -> PeriodicReview:
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    status = sel.review_status(version)
    manifest = review_manifest(version)
    review = PeriodicReview.objects.create(
        model_version=version,
        reviewed_by=by,
        reviewed_at=timezone.now(),
        outcome=outcome,
        note=note,
        interval_days=status.interval_days or 0,
    )
    Signature.objects.create(
        periodic_review=review,
        signer=by,
        printed_name=printed_name(by),
        signed_at=review.reviewed_at,
        meaning=Signature.Meaning.PERIODIC_REVIEW,
        reason=note,
        manifest=manifest,
        manifest_hash=rules.manifest_hash(manifest),
        auth_method=auth_method,
    )
    _audit("periodic_review.signed", version, by=by, reason=note, outcome=(None, outcome))
    return review
