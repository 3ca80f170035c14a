"""Signing a promotion request under single sign-on (issue 17): no password; the
signer signs in again at the provider (``accounts.sso.stepup``) for exactly this
signature, and the signature is accepted only with a verified ID token of the same
subject whose ``auth_time`` is fresh. The pending signature names the request, the
meaning, the slot, the reason and the hash of what is signed: a re-authentication made
for one of them signs nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.sso.stepup import StepUpProof, stepup_refusal
from audit.services import audit_record
from governance.selectors.signers import signer_refusal
from reviews.models import PromotionRequest, Signature
from reviews.selectors import promotion as sel
from reviews.services.promotion import _sign, request_sign_precheck
from reviews.services.signers import signing_refused

KIND = "reviews.request-sign"
AUTH_METHOD = "provider re-authentication"


def request_sign_purpose(*, request: PromotionRequest, by: User, meaning: str, reason: str) -> dict:
    """The pending signature a re-authentication is bound to."""
    state = sel.request_state(request)
    slot = state.slot_for(by) if meaning == Signature.Meaning.APPROVED else ""
    return {
        "kind": KIND,
        "request": request.pk,
        "meaning": meaning,
        "slot": slot or "",
        "reason": (reason or "").strip(),
        "manifest_hash": state.manifest_hash,
    }


def request_sign_reauthenticated(
    *, request: PromotionRequest, by: User, meaning: str, reason: str, proof: StepUpProof
) -> Signature:
    """Sign ``request`` as ``meaning`` with a provider re-authentication instead of a
    password. Refused (PermissionDenied, audited) when the proof is for another subject,
    another signature (the request's content changed meanwhile included) or is not
    fresh, or when a signer check refuses the signer; ValidationError for a bad input."""
    reason = request_sign_precheck(request=request, by=by, meaning=meaning, reason=reason)
    purpose = request_sign_purpose(request=request, by=by, meaning=meaning, reason=reason)
    why = stepup_refusal(proof=proof, user=by, purpose=purpose)
    if why is None and meaning in (Signature.Meaning.APPROVED, Signature.Meaning.REVIEWED):
        why = signer_refusal(by)
    if why:
        signing_refused(request=request, by=by, meaning=meaning, why=f"Re-authentication: {why}")
        raise PermissionDenied(why)
    try:
        with transaction.atomic():
            signature = _sign(
                request=request, by=by, meaning=meaning, reason=reason, auth_method=AUTH_METHOD
            )
            audit_record(
                action="signature.reauthenticated",
                obj=request,
                actor=by,
                changes={
                    "signature": [None, signature.pk],
                    "issuer": [None, proof.issuer],
                    "subject": [None, proof.subject],
                    "auth_time": [None, datetime.fromtimestamp(proof.auth_time, UTC).isoformat()],
                },
            )
            return signature
    except PermissionDenied as exc:
        signing_refused(request=request, by=by, meaning=meaning, why=str(exc))
        raise
