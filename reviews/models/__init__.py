"""Promotion requests, sign-offs and e-signatures, waivers, findings, periodic reviews,
the deployment gate's log."""

from reviews.models.promotion import (
    BlockingWaiver,
    Finding,
    GateCall,
    PeriodicReview,
    PromotionRequest,
    Signature,
    SignatureVoiding,
    SigningFailure,
)

__all__ = [
    "BlockingWaiver",
    "Finding",
    "GateCall",
    "PeriodicReview",
    "PromotionRequest",
    "Signature",
    "SignatureVoiding",
    "SigningFailure",
]
