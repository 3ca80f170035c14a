"""Reads of the framework review (issue 16, Step 8): the reviews, the period's indicators
from the daily snapshots, the waivers and findings per policy cell (risk tier x
consideration), and whether a review is due. Constant queries per call."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core import kpi_rules
from oversight.models import FrameworkReview, GovernanceSnapshot, PolicyChangeProposal
from oversight.selectors.indicators import headline_labels
from reviews.models import BlockingWaiver, Finding

EVIDENCE_KINDS = ("finding", "waiver", "snapshot")
CELL_IDS_KEPT = 20  # ids listed per cell as evidence to link; the counts are complete


def framework_review_list() -> QuerySet[FrameworkReview]:
    return FrameworkReview.objects.select_related("created_by", "signed_by")


def framework_review_get(*, pk: int) -> FrameworkReview:
    """Raises FrameworkReview.DoesNotExist."""
    return framework_review_list().get(pk=pk)


def proposal_list(review: FrameworkReview) -> list[PolicyChangeProposal]:
    return list(
        review.proposals.select_related(
            "consideration", "policy_draft__policy", "created_by"
        ).order_by("id")
    )


def period_indicators(*, start: date, end: date) -> dict[str, Any]:
    """The headline indicators over the period, from its daily snapshots: for each, the
    first and last day's value and the highest. One query."""
    rows = list(
        GovernanceSnapshot.objects.filter(day__gte=start, day__lte=end)
        .order_by("day")
        .values_list("day", "indicators")
    )
    headlines = {}
    for key, label in headline_labels().items():
        values = [v.get(key) for _, v in rows if v.get(key) is not None]
        headlines[key] = {
            "label": label,
            "first": values[0] if values else None,
            "last": values[-1] if values else None,
            "max": max(values) if values else None,
        }
    return {
        "snapshots": len(rows),
        "first_day": rows[0][0].isoformat() if rows else None,
        "last_day": rows[-1][0].isoformat() if rows else None,
        "headlines": headlines,
    }


def policy_cell_evidence(*, start: date, end: date) -> list[dict[str, Any]]:
    """Waivers given and findings opened in the period, per policy cell: the use case's
    risk tier x the consideration (a waiver's measure, ``core.kpi_rules.measure_of``; a
    finding's source, ``CONSIDERATION_OF_SOURCE``). Rows sorted by tier then
    consideration, each with the counts and the first ids (evidence to link). Two
    queries."""
    cells: dict[tuple[int | None, str], dict[str, Any]] = {}

    def cell(tier, consideration) -> dict[str, Any]:
        return cells.setdefault(
            (tier, consideration),
            {
                "tier": tier,
                "consideration": consideration,
                "waivers": 0,
                "findings": 0,
                "waiver_ids": [],
                "finding_ids": [],
            },
        )

    waivers = BlockingWaiver.objects.filter(at__date__gte=start, at__date__lte=end).values_list(
        "pk", "code", "request__model_version__model__use_case__risk_tier"
    )
    for pk, code, tier in waivers.order_by("pk"):
        row = cell(tier, kpi_rules.measure_of(code))
        row["waivers"] += 1
        if len(row["waiver_ids"]) < CELL_IDS_KEPT:
            row["waiver_ids"].append(pk)
    findings = Finding.objects.filter(
        opened_at__date__gte=start, opened_at__date__lte=end
    ).values_list("pk", "source", "model_version__model__use_case__risk_tier")
    for pk, source, tier in findings.order_by("pk"):
        row = cell(tier, kpi_rules.CONSIDERATION_OF_SOURCE.get(source, kpi_rules.OTHER))
        row["findings"] += 1
        if len(row["finding_ids"]) < CELL_IDS_KEPT:
            row["finding_ids"].append(pk)
    return sorted(cells.values(), key=lambda r: (r["tier"] or 0, r["consideration"]))


def framework_review_last_signed() -> FrameworkReview | None:
    return (
        FrameworkReview.objects.filter(status=FrameworkReview.Status.SIGNED)
        .order_by("-signed_at", "-id")
        .first()
    )


def framework_review_due(*, today: date | None = None) -> bool:
    """Whether no review was signed within ``FRAMEWORK_REVIEW_INTERVAL_DAYS``."""
    today = today or timezone.localdate()
    last = framework_review_last_signed()
    window = timedelta(days=settings.FRAMEWORK_REVIEW_INTERVAL_DAYS)
    return last is None or timezone.localtime(last.signed_at).date() < today - window


def evidence_errors(evidence: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a proposal's evidence links: each {kind, id, label} must name
    an existing finding, waiver or snapshot. Three queries at most."""
    errors: list[str] = []
    wanted: dict[str, set[int]] = {kind: set() for kind in EVIDENCE_KINDS}
    for item in evidence:
        kind, pk = item.get("kind"), item.get("id")
        if (
            kind not in EVIDENCE_KINDS
            or not isinstance(pk, int)
            or isinstance(pk, bool)
            or not 0 < pk < 2**63
        ):
            errors.append(
                f"Evidence {item!r}: give a kind ({', '.join(EVIDENCE_KINDS)}) and an id."
            )
            continue
        wanted[kind].add(pk)
    models = {"finding": Finding, "waiver": BlockingWaiver, "snapshot": GovernanceSnapshot}
    for kind, ids in wanted.items():
        if not ids:
            continue
        found = set(models[kind].objects.filter(pk__in=ids).values_list("pk", flat=True))
        errors += [f"No {kind} #{pk} exists." for pk in sorted(ids - found)]
    return errors
