"""Reads of Step 5: obligations per use case, the machine-readable view for other
workflows, and dashboard counts."""

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.models import Obligation, ObligationEvent

PENDING = (Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED)


def obligation_list(*, use_case=None, active: bool | None = True) -> QuerySet[Obligation]:
    """Obligations (active ones by default) with their consideration, owner, policy
    version and history prefetched."""
    qs = Obligation.objects.select_related(
        "use_case", "consideration", "owner", "policy_version", "evidence_by"
    ).prefetch_related(
        Prefetch(
            "events", queryset=ObligationEvent.objects.select_related("by").order_by("at", "id")
        )
    )
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("use_case_id", "consideration__order", "-id")


def obligation_get(*, pk: int) -> Obligation | None:
    return obligation_list(active=None).filter(pk=pk).first()


def obligations_for_rules(*, use_case) -> dict[str, dict[str, Any]]:
    """{consideration code: parameters} of the use case's active, not waived
    obligations: what the sign-off, bias and monitoring workflows must enforce."""
    return {
        o.consideration.code: dict(o.parameters, level=o.level)
        for o in obligation_list(use_case=use_case).exclude(status=Obligation.Status.WAIVED)
    }


def obligations_overdue(*, today=None) -> QuerySet[Obligation]:
    today = today or timezone.localdate()
    return obligation_list().filter(status__in=PENDING, due_date__lt=today)


def obligation_dashboard(*, today=None) -> dict[str, Any]:
    """Counts of active obligations by status and by tier, and the overdue ones."""
    today = today or timezone.localdate()
    active = Obligation.objects.filter(active=True)
    by_status = {s: 0 for s in Obligation.Status.values}
    for row in active.values("status").annotate(n=Count("id")):
        by_status[row["status"]] = row["n"]
    by_tier = {
        row["use_case__risk_tier"]: row["n"]
        for row in active.filter(status__in=PENDING)
        .values("use_case__risk_tier")
        .annotate(n=Count("id"))
    }
    overdue = active.filter(Q(status__in=PENDING) & Q(due_date__lt=today)).count()
    return {
        "by_status": by_status,
        "by_tier": by_tier,
        "open": by_status[Obligation.Status.OPEN] + by_status[Obligation.Status.EVIDENCE_SUBMITTED],
        "overdue": overdue,
    }


def obligation_kpis(*, today=None) -> dict[str, int]:
    """The home page's figures in one query: active obligations still owed (open or
    with evidence pending) and those of them past their due date."""
    today = today or timezone.localdate()
    pending = Q(active=True, status__in=PENDING)
    return Obligation.objects.aggregate(
        open=Count("id", filter=pending),
        overdue=Count("id", filter=pending & Q(due_date__lt=today)),
    )


def obligation_status_by_tier(*, today=None) -> dict[str, Any]:
    """Active obligations counted by status (rows) and the use case's risk tier
    (columns), plus the overdue ones per tier, in one query (home page)."""
    from inventory.choices import RiskTier

    today = today or timezone.localdate()
    rows = (
        Obligation.objects.filter(active=True)
        .values("status", "use_case__risk_tier")
        .annotate(
            n=Count("id"),
            late=Count("id", filter=Q(status__in=PENDING, due_date__lt=today)),
        )
    )
    counts = {(r["status"], r["use_case__risk_tier"]): r["n"] for r in rows}
    late: dict[int, int] = {}
    for r in rows:
        late[r["use_case__risk_tier"]] = late.get(r["use_case__risk_tier"], 0) + r["late"]
    tiers = list(RiskTier)
    return {
        "tiers": [t.label for t in tiers],
        "rows": [
            {"label": label, "counts": [counts.get((status, t.value), 0) for t in tiers]}
            for status, label in Obligation.Status.choices
        ],
        "overdue": [late.get(t.value, 0) for t in tiers],
    }
