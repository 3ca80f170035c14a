from reviews.models.bias import BiasPartial, BiasSummary, ScoredDataset
from reviews.models.experiments import (
    Experiment,
    ExperimentBatch,
    ExperimentOutcome,
    ProtocolLockedError,
)
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
    "BiasPartial",
    "BiasSummary",
    "BlockingWaiver",
    "Experiment",
    "ExperimentBatch",
    "ExperimentOutcome",
    "Finding",
    "GateCall",
    "Notification",
    "PeriodicReview",
    "PromotionRequest",
    "ProtocolLockedError",
    "ScoredDataset",
    "Signature",
    "SigningFailure",
]
