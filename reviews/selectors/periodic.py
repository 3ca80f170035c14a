"""Reads of the periodic review: when a version in production is due, and the list of
every version in production with its status, read in a constant number of queries
however many versions there are (issue 13). Re-exported by
``reviews.selectors.promotion``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from core import policy_rules
from core.memo import memoized
from governance.models import Obligation
from governance.selectors.obligations import obligations_for_rules
from inventory.models import ModelVersion, UseCase
from reviews.models import PeriodicReview, PromotionRequest


@memoized
def latest_approved(version: ModelVersion, environment: str) -> PromotionRequest | None:
    """The last request that took the version into ``environment`` and was approved
    (or approved then revoked: the gate must see the revocation)."""
    return (
        PromotionRequest.objects.filter(
            model_version=version,
            to_environment=environment,
            status__in=[PromotionRequest.Status.APPROVED, PromotionRequest.Status.REVOKED],
        )
        .order_by("-decided_at", "-id")
        .first()
    )


# --- Periodic review ------------------------------------------------------------------------


@dataclass
class ReviewStatus:
    interval_days: int | None
    last_review: PeriodicReview | None
    since: date | None
    due: date | None
    overdue_days: int
    grace_days: int

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def past_grace(self) -> bool:
        return self.overdue_days > self.grace_days


policy_rules.register_consumer(
    "reviews.selectors.periodic.review_interval_days",
    "audit-documentation",
    "periodic_review_days",
)


def review_interval_days(use_case: UseCase) -> int | None:
    """The periodic-review interval of the use case's audit obligation (policy, tightened
    by regulations), or None when no periodic review is owed."""
    params = obligations_for_rules(use_case=use_case).get("audit-documentation") or {}
    days = params.get("periodic_review_days")
    return int(days) if days else None


def review_status(version: ModelVersion, *, today: date | None = None) -> ReviewStatus:
    """When the version in production is due for its periodic review. The clock starts
    at the last signed review, or at the approval that put it in production."""
    interval = review_interval_days(version.model.use_case)
    last = PeriodicReview.objects.filter(model_version=version).order_by("-reviewed_at").first()
    entered = None if last else latest_approved(version, "prod")
    return review_status_from(version, interval=interval, last=last, entered=entered, today=today)


def review_status_from(
    version: ModelVersion,
    *,
    interval: int | None,
    last: PeriodicReview | None,
    entered: PromotionRequest | None,
    today: date | None = None,
) -> ReviewStatus:
    """``review_status`` from what it reads: the interval, the last signed review and
    the approval that put the version in production (read for many versions at once
    by ``reviews.selectors.periodic``)."""
    today = today or timezone.now().date()
    grace = settings.PERIODIC_REVIEW_GRACE_DAYS
    since = None
    if last:
        since = last.reviewed_at.date()
    elif entered and entered.decided_at:
        since = entered.decided_at.date()
    if interval is None or since is None or version.environment != "prod":
        return ReviewStatus(interval, last, since, None, 0, grace)
    due = since + timedelta(days=interval)
    return ReviewStatus(interval, last, since, due, max(0, (today - due).days), grace)


def versions_in_production() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(environment="prod").select_related("model__use_case")


AUDIT = "audit-documentation"


def _intervals(use_case_ids: set[int]) -> dict[int, int | None]:
    """{use case id: periodic-review interval}, as ``review_interval_days`` reads it: the
    use case's active, not waived audit obligation (the last in its order wins)."""
    rows = (
        Obligation.objects.filter(
            use_case_id__in=use_case_ids, active=True, consideration__code=AUDIT
        )
        .exclude(status=Obligation.Status.WAIVED)
        .order_by("use_case_id", F("model_version_id").asc(nulls_first=True), "id")
    )
    params: dict[int, dict] = {}
    for o in rows:
        params[o.use_case_id] = o.parameters
    out: dict[int, int | None] = {}
    for uc in use_case_ids:
        days = (params.get(uc) or {}).get("periodic_review_days")
        out[uc] = int(days) if days else None
    return out


def _first_per_version(rows, key: str = "model_version_id") -> dict:
    out: dict = {}
    for row in rows:
        out.setdefault(getattr(row, key), row)
    return out


def periodic_review_rows(*, today: date | None = None) -> list[tuple[ModelVersion, ReviewStatus]]:
    """(version, status) of every version in production, the soonest due first."""
    versions = list(versions_in_production())
    ids = [v.pk for v in versions]
    intervals = _intervals({v.model.use_case_id for v in versions})
    last = _first_per_version(
        PeriodicReview.objects.filter(model_version_id__in=ids).order_by(
            "model_version_id", "-reviewed_at", "-id"
        )
    )
    entered = _first_per_version(
        PromotionRequest.objects.filter(
            model_version_id__in=ids,
            to_environment="prod",
            status__in=[PromotionRequest.Status.APPROVED, PromotionRequest.Status.REVOKED],
        ).order_by("model_version_id", "-decided_at", "-id")
    )
    rows = [
        (
            v,
            review_status_from(
                v,
                interval=intervals[v.model.use_case_id],
                last=last.get(v.pk),
                entered=None if v.pk in last else entered.get(v.pk),
                today=today,
            ),
        )
        for v in versions
    ]
    rows.sort(key=lambda r: (r[1].due is None, r[1].due or r[0].registered_at.date()))
    return rows
