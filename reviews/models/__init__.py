"""Promotion requests, sign-offs and e-signatures, waivers, findings, periodic reviews,
the deployment gate's log, independent validations."""

from reviews.models.findings import Finding, FindingAcceptance, FindingEvent, RemediationAction
from reviews.models.promotion import (
    BlockingWaiver,
    GateCall,
    GateRevision,
    PeriodicReview,
    PromotionRequest,
    Signature,
    SignatureVoiding,
    SigningFailure,
)
from reviews.models.validation import Validation

__all__ = [
    "BlockingWaiver",
    "Finding",
    "FindingAcceptance",
    "FindingEvent",
    "GateCall",
    "GateRevision",
    "PeriodicReview",
    "PromotionRequest",
    "RemediationAction",
    "Signature",
    "SignatureVoiding",
    "SigningFailure",
    "Validation",
]
