"""Promotion requests, sign-offs and e-signatures, waivers, findings, periodic reviews,
the deployment gate's log, independent validations."""

from reviews.models.promotion import (
    BlockingWaiver,
    Finding,
    GateCall,
    GateRevision,
    PeriodicReview,
    PromotionRequest,
    Signature,
    SignatureVoiding,
    SigningFailure,
)
from reviews.models.validation import FindingAcceptance, Validation

__all__ = [
    "BlockingWaiver",
    "Finding",
    "FindingAcceptance",
    "GateCall",
    "GateRevision",
    "PeriodicReview",
    "PromotionRequest",
    "Signature",
    "SignatureVoiding",
    "SigningFailure",
    "Validation",
]
