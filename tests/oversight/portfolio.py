"""A hand-built portfolio whose governance indicators are known exactly, repeatable
``copies`` times (each copy adds the same rows, so every count scales by ``copies``
and the median stays)."""

import datetime as dt

from django.utils import timezone

from governance.models import Consideration, Obligation
from monitoring.models import DriftAlert
from reviews.models import BlockingWaiver, Finding, PromotionRequest
from tests.factories import (
    DriftAlertFactory,
    FindingFactory,
    ModelVersionFactory,
    MonitoringConfigFactory,
    ObligationFactory,
    PromotionRequestFactory,
    UseCaseFactory,
)


def _days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def build_portfolio(copies: int = 1) -> dict:
    today = timezone.localdate()
    c1, c2 = Consideration.objects.order_by("order")[:2]
    for _ in range(copies):
        high = UseCaseFactory(risk_tier=3)
        low = UseCaseFactory(risk_tier=1)
        # Obligations: 3 owed (2 overdue), 1 accepted (not owed).
        ObligationFactory(use_case=high, consideration=c1, due_date=today + dt.timedelta(days=30))
        ObligationFactory(
            use_case=high,
            consideration=c2,
            status=Obligation.Status.EVIDENCE_SUBMITTED,
            due_date=today - dt.timedelta(days=5),
        )
        ObligationFactory(use_case=low, consideration=c1, due_date=today - dt.timedelta(days=1))
        ObligationFactory(use_case=low, consideration=c2, status=Obligation.Status.ACCEPTED)
        # Versions in production: one monitored, one not.
        monitored = ModelVersionFactory(model__use_case=high, environment="prod")
        config = MonitoringConfigFactory(model_version=monitored)
        ModelVersionFactory(model__use_case=low, environment="prod")
        # Findings: 4 still to deal with (1 overdue, 1 from a bias summary), 1 closed.
        version = monitored
        for severity, status, age, due, source in (
            ("critical", "open", 10, -2, "audit"),
            ("high", "planned", 40, 5, "validation"),
            ("low", "accepted", 200, -50, "manual"),
            ("medium", "closed", 5, 10, "manual"),
            ("medium", "open", 0, 10, Finding.Source.BIAS),
        ):
            FindingFactory(
                model_version=version,
                severity=severity,
                status=status,
                source=source,
                opened_at=_days_ago(age),
                due_on=today + dt.timedelta(days=due),
            )
        # Drift alerts: one open, one acknowledged, one resolved.
        DriftAlertFactory(config=config, feature="x")
        DriftAlertFactory(config=config, feature="y", status=DriftAlert.Status.ACKNOWLEDGED)
        DriftAlertFactory(config=config, feature="z", status=DriftAlert.Status.RESOLVED)
        # Approvals in the last 90 days: 4 days and 2 days; one older, one rejected.
        approved = PromotionRequestFactory(
            model_version=monitored,
            status=PromotionRequest.Status.APPROVED,
            requested_at=_days_ago(4),
            decided_at=timezone.now(),
        )
        PromotionRequestFactory(
            model_version=monitored,
            status=PromotionRequest.Status.APPROVED,
            requested_at=_days_ago(10),
            decided_at=_days_ago(8),
        )
        PromotionRequestFactory(
            model_version=monitored,
            status=PromotionRequest.Status.APPROVED,
            requested_at=_days_ago(130),
            decided_at=_days_ago(100),
        )
        rejected = PromotionRequestFactory(
            model_version=monitored,
            status=PromotionRequest.Status.REJECTED,
            requested_at=_days_ago(3),
            decided_at=_days_ago(1),
        )
        # Waivers: two on an approved request (in force), one on a rejected one.
        for request, code in (
            (approved, "obligation:bias-harm-testing"),
            (approved, "finding:1"),
            (rejected, "obligation:transparency"),
        ):
            BlockingWaiver.objects.create(
                request=request,
                code=code,
                message="Blocking item",
                reason="Compensating control in place.",
                by=request.requested_by,
                at=timezone.now(),
            )
    return {"c1": c1.code, "c2": c2.code}


def expected(codes: dict, copies: int = 1) -> dict:
    n = copies
    return {
        "obligations.open": 3 * n,
        "obligations.overdue": 2 * n,
        "obligations.open.tier.1": 1 * n,
        "obligations.open.tier.2": 0,
        "obligations.open.tier.3": 2 * n,
        "obligations.open.tier.4": 0,
        "obligations.overdue.tier.1": 1 * n,
        "obligations.overdue.tier.2": 0,
        "obligations.overdue.tier.3": 1 * n,
        "obligations.overdue.tier.4": 0,
        f"obligations.open.consideration.{codes['c1']}": 2 * n,
        f"obligations.open.consideration.{codes['c2']}": 1 * n,
        f"obligations.overdue.consideration.{codes['c1']}": 1 * n,
        f"obligations.overdue.consideration.{codes['c2']}": 1 * n,
        "approvals.median_days": 3.0,
        "approvals.count": 2 * n,
        "findings.open": 4 * n,
        "findings.overdue": 1 * n,
        "bias.breaches_open": 1 * n,
        "findings.open.severity.low": 1 * n,
        "findings.open.severity.medium": 1 * n,
        "findings.open.severity.high": 1 * n,
        "findings.open.severity.critical": 1 * n,
        "findings.open.age.0-30": 2 * n,
        "findings.open.age.31-90": 1 * n,
        "findings.open.age.91-180": 0,
        "findings.open.age.over-180": 1 * n,
        "versions.production": 2 * n,
        "versions.unmonitored": 1 * n,
        "versions.review_overdue": 0,
        "drift.alerts_open": 2 * n,
        "drift.alerts_unacknowledged": 1 * n,
        "waivers.current": 2 * n,
        "waivers.measure.bias-harm-testing": 1 * n,
        "waivers.measure.finding": 1 * n,
        # Nobody here holds a role: no one to acknowledge or train (tests/engagement
        # checks the shares on people who do).
        "attestations.completion_pct": None,
        "training.completion_pct": None,
    }
