"""Demo governance KPIs and framework review (issue 16, Step 8): a year of daily
snapshots whose last point is today's real figures (taken by the product's own service),
a few key risk indicators (one in breach), and one signed framework review with a
proposal that became a policy draft.

The 364 earlier days are generated, not measured: each indicator walks from a plausible
start to today's value (``core.kpi_rules.demo_trend``, seeded by the indicator's key, so
every load writes the same history). They are bulk-created: a snapshot is an
append-only row with no rule beyond its day, and 364 inserts one by one would only slow
the loader down.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

import demo
from core import kpi_rules
from oversight.models import FrameworkReview, GovernanceSnapshot, KeyRiskIndicator
from oversight.selectors.indicators import governance_indicators
from oversight.services import framework as review_svc
from oversight.services.snapshots import snapshot_take
from reviews.models import Finding

DAYS = 365
CONCLUSION = (
    "The framework works: obligations are met mostly on time and findings are dealt with "
    "within the policy's days. Bias findings on high-tier use cases stayed open too long, "
    "so bias and harm testing becomes strict for high-tier use cases (proposal below, in "
    "the policy draft for four-eyes publication)."
)


def _history(today) -> list[GovernanceSnapshot]:
    """The 364 days before ``today``, ending near today's real figures."""
    final = governance_indicators(today=today)
    walks = {
        key: kpi_rules.demo_trend(float(value), days=DAYS, seed=zlib.crc32(key.encode()))
        for key, value in final.items()
        if isinstance(value, int | float)
    }
    rows = []
    for i in range(DAYS - 1):
        day = today - timedelta(days=DAYS - 1 - i)
        values = {
            key: round(walk[i], 1) if isinstance(final[key], float) else round(walk[i])
            for key, walk in walks.items()
        }
        values |= {key: None for key, value in final.items() if value is None}
        rows.append(GovernanceSnapshot(day=day, taken_at=timezone.now(), indicators=values))
    return rows


def _kris(today_values: dict) -> None:
    """KRIs on today's figures: one in breach (findings still to deal with at or above
    today's count), attestation completion watched from below (a warning while the
    campaign runs), the others clear."""
    open_findings = today_values.get("findings.open") or 1
    for indicator, name, warning, breach in (
        ("findings.open", "Findings still to deal with", max(0, open_findings - 2), open_findings),
        ("obligations.overdue", "Obligations overdue", 25, 50),
        ("versions.review_overdue", "Versions past their periodic review", 3, 6),
        ("approvals.median_days", "Median days to approval", 10, 20),
    ):
        KeyRiskIndicator.objects.get_or_create(
            indicator=indicator,
            defaults={"name": name, "warning_level": warning, "breach_level": breach},
        )
    # Step 7's completion watched from below: most people must have acknowledged.
    KeyRiskIndicator.objects.get_or_create(
        indicator="attestations.completion_pct",
        defaults={
            "name": "Attestation completion",
            "comparison": kpi_rules.BELOW,
            "warning_level": 90,
            "breach_level": 40,
        },
    )


def _review(lead: User, today) -> FrameworkReview:
    review = review_svc.framework_review_create(
        by=lead, period_start=today - timedelta(days=DAYS - 1), period_end=today
    )
    evidence = [
        {"kind": "snapshot", "id": s.pk, "label": f"Snapshot of {s.day}"}
        for s in GovernanceSnapshot.objects.order_by("-day")[:1]
    ]
    evidence += [
        {"kind": "finding", "id": pk, "label": f"Finding #{pk}"}
        for pk in Finding.objects.order_by("pk").values_list("pk", flat=True)[:2]
    ]
    proposal = review_svc.proposal_add(
        review=review,
        by=lead,
        tier=3,
        consideration="bias-harm-testing",
        proposed_level="strict",
        rationale="Bias findings on high-tier use cases stayed open beyond their due dates.",
        evidence=evidence,
    )
    review_svc.proposal_make_draft(proposal=proposal, by=lead)
    review_svc.framework_review_conclude(review=review, by=lead, conclusion=CONCLUSION)
    return review_svc.framework_review_sign(review=review, by=lead, password=demo.DEMO_PASSWORD)


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    if FrameworkReview.objects.filter(status=FrameworkReview.Status.SIGNED).exists():
        note("governance KPIs", "already loaded", False)
        return
    today = timezone.localdate()
    if not GovernanceSnapshot.objects.filter(day__lt=today).exists():
        GovernanceSnapshot.objects.bulk_create(_history(today))
        note("governance snapshot", f"{DAYS - 1} earlier days", True, DAYS - 1)
    _kris(governance_indicators(today=today))
    snapshot, created = snapshot_take(today=today)
    note("governance snapshot", f"today ({snapshot.day})", created)
    review = _review(users["governance.lead"], today)
    note("framework review", str(review), True)
