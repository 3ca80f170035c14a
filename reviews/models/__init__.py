from reviews.models.bias import BiasPartial, BiasSummary, ScoredDataset
from reviews.models.experiments import (
    Experiment,
    ExperimentBatch,
    ExperimentOutcome,
    ProtocolLockedError,
)
from reviews.models.monitoring import (
    Cadence,
    DriftAlert,
    DriftAlertEvent,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringWindow,
    ReferenceProfile,
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
    "Cadence",
    "DriftAlert",
    "DriftAlertEvent",
    "Experiment",
    "ExperimentBatch",
    "ExperimentOutcome",
    "Finding",
    "GateCall",
    "MonitoringBatch",
    "MonitoringConfig",
    "MonitoringWindow",
    "Notification",
    "PeriodicReview",
    "PromotionRequest",
    "ProtocolLockedError",
    "ReferenceProfile",
    "ScoredDataset",
    "Signature",
    "SigningFailure",
]
