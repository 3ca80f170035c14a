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
