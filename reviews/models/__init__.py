"""Promotion requests, sign-offs and e-signatures, waivers, findings, periodic reviews,
the deployment gate's log and the e-mail outbox."""

from reviews.models.promotion import (
    AppendOnlyError,
    BlockingWaiver,
    Finding,
    GateCall,
    Notification,
    PeriodicReview,
    PromotionRequest,
    Signature,
    SigningFailure,
)

__all__ = [
    "AppendOnlyError",
    "BlockingWaiver",
    "Finding",
    "GateCall",
    "Notification",
    "PeriodicReview",
    "PromotionRequest",
    "Signature",
    "SigningFailure",
]
