"""Reads of the periodic review: when a version in production is due, and the list of
every version in production with its status, read in a constant number of queries
however many versions there are (issue 13). Re-exported by
``reviews.selectors.promotion``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import CharField, F, Max, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from audit.figures import figure_while_unchanged
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


def _interval_days(value: str | None) -> int | None:
    # As ``int(days) if days else None`` on the decoded value: 0 owes no review.
    return (int(float(value)) or None) if value else None


def _intervals(use_case_ids) -> dict[int, int | None]:
    """{use case id: periodic-review interval}, as ``review_interval_days`` reads it: the
    use case's active, not waived audit obligation (the last in its order wins).
    ``use_case_ids`` is a set or a queryset of ids (a subquery). Only the interval is
    read out of each obligation's parameters (issue 18: decoding 10,000 of them)."""
    rows = (
        Obligation.objects.filter(
            use_case_id__in=use_case_ids, active=True, consideration__code=AUDIT
        )
        .exclude(status=Obligation.Status.WAIVED)
        .order_by("use_case_id", F("model_version_id").asc(nulls_first=True), "id")
        .values_list("use_case_id", KT("parameters__periodic_review_days"))
    )
    days: dict[int, str | None] = {}
    for use_case_id, value in rows:
        days[use_case_id] = value
    return {uc: _interval_days(d) for uc, d in days.items()}


def _first_per_version(rows, key: str = "model_version_id") -> dict:
    out: dict = {}
    for row in rows:
        out.setdefault(getattr(row, key), row)
    return out


ENTERED = [PromotionRequest.Status.APPROVED, PromotionRequest.Status.REVOKED]
REVIEW_FILTERS = {
    "overdue": "Overdue",
    "blocked": "Blocked by the gate",
    "current": "Up to date",
    "none": "No review owed",
}


def _matches(status: ReviewStatus, wanted: str) -> bool:
    return {
        "overdue": status.overdue,
        "blocked": status.past_grace,
        "current": status.due is not None and not status.overdue,
        "none": status.due is None,
    }.get(wanted, True)


def periodic_review_index(*, today: date | None = None, status: str = "") -> list[int]:
    """Ids of the versions in production, the soonest due first (those with no due date
    last, by registration), keeping those whose status matches ``status`` (a key of
    ``REVIEW_FILTERS``; empty: all). Two queries of plain values whatever the number
    of versions (issue 18): the dates are compared in Python, not per version in SQL.
    For today, kept until anything is audited (``audit.figures``: versions, reviews,
    requests and obligations are all audited rows)."""
    return figure_while_unchanged(
        f"periodic-review-index:{status}",
        lambda day: _periodic_review_index(day, status),
        day=today,
    )


def _keeps(status: str, today: date, grace: int) -> Callable[[date | None], bool]:
    """``_matches`` on the due date alone, for the index: the same rules without a
    ReviewStatus per version (half of the index's Python time at 10,000 use cases)."""
    if status and status not in REVIEW_FILTERS:
        raise KeyError(status)
    if status == "overdue":  # overdue_days = (today - due).days > 0
        return lambda due: due is not None and due < today
    if status == "blocked":  # overdue_days > grace
        limit = today - timedelta(days=grace)
        return lambda due: due is not None and due < limit
    if status == "current":
        return lambda due: due is not None and due >= today
    if status == "none":
        return lambda due: due is None
    return lambda due: True


def _utc_day(expression) -> Substr:
    """The UTC day of a datetime expression as "YYYY-MM-DD" text, which is what
    ``.date()`` of the aware datetime the ORM returns gives (both backends store and
    return UTC): the index compares days only, and building 10,000 aware datetimes in
    Python to keep their date was half of its cost (issue 18)."""
    return Substr(Cast(expression, CharField()), 1, 10)


def _periodic_review_index(today: date, status: str) -> list[int]:
    # One query over the versions in production, each with the day of its last signed
    # review and of the approval that put it there (correlated subqueries on the
    # version's index), and one for the intervals, instead of four queries whose rows
    # were joined in Python (issue 18: the cold path of My work and the periodic
    # reviews page).
    version = OuterRef("pk")
    last = (
        PeriodicReview.objects.filter(model_version=version)
        .order_by()
        .values("model_version")
        .annotate(at=_utc_day(Max("reviewed_at")))
        .values("at")
    )
    entered = (
        PromotionRequest.objects.filter(
            model_version=version, to_environment="prod", status__in=ENTERED
        )
        .exclude(decided_at=None)
        .order_by()
        .values("model_version")
        .annotate(at=_utc_day(Max("decided_at")))
        .values("at")
    )
    rows = (
        ModelVersion.objects.filter(environment="prod")
        .annotate(
            last=Subquery(last[:1]),
            entered=Subquery(entered[:1]),
        )
        .values_list("pk", "model__use_case_id", _utc_day("registered_at"), "last", "entered")
        .order_by()
    )
    intervals = _intervals(
        ModelVersion.objects.filter(environment="prod").values("model__use_case_id")
    )
    keep = _keeps(status, today, settings.PERIODIC_REVIEW_GRACE_DAYS)
    keyed = []
    for pk, use_case_id, registered_on, last_on, entered_on in rows:
        since_on = last_on or entered_on
        interval = intervals.get(use_case_id)
        due = (
            date.fromisoformat(since_on) + timedelta(days=interval)
            if since_on and interval
            else None
        )
        if keep(due):
            keyed.append((due is None, due or date.fromisoformat(registered_on), pk))
    keyed.sort()
    return [pk for _, _, pk in keyed]


def periodic_review_rows(
    *, today: date | None = None, ids: list[int] | None = None
) -> list[tuple[ModelVersion, ReviewStatus]]:
    """(version, status) of the versions in production (those of ``ids``, in that
    order, e.g. one page of ``periodic_review_index``; default all, soonest due first),
    in four queries."""
    if ids is None:
        ids = periodic_review_index(today=today)
    versions = ModelVersion.objects.select_related("model__use_case").in_bulk(ids)
    intervals = _intervals({v.model.use_case_id for v in versions.values()})
    last = _first_per_version(
        PeriodicReview.objects.filter(model_version_id__in=ids).order_by(
            "model_version_id", "-reviewed_at", "-id"
        )
    )
    entered = _first_per_version(
        PromotionRequest.objects.filter(
            model_version_id__in=ids, to_environment="prod", status__in=ENTERED
        ).order_by("model_version_id", "-decided_at", "-id")
    )
    return [
        (
            v,
            review_status_from(
                v,
                interval=intervals.get(v.model.use_case_id),
                last=last.get(v.pk),
                entered=None if v.pk in last else entered.get(v.pk),
                today=today,
            ),
        )
        for v in (versions[pk] for pk in ids if pk in versions)
    ]
