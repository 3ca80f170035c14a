"""Reads of Step 5: obligations per use case, the machine-readable view for other
workflows, and dashboard counts."""

from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from core.memo import memoized
from governance.models import Obligation, ObligationEvent

PENDING = (Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED)


def obligation_list(
    *, use_case=None, active: bool | None = True, version=None
) -> QuerySet[Obligation]:
    """Obligations (active ones by default) with their consideration, owner, policy
    version and history prefetched. With ``version``: what that version owes, i.e. the
    use case's use-case-scope obligations and the version's own."""
    qs = Obligation.objects.select_related(
        "use_case",
        "consideration",
        "owner",
        "policy_version",
        "evidence_by",
        "model_version",
        "evidence_version",
    ).prefetch_related(
        Prefetch(
            "events", queryset=ObligationEvent.objects.select_related("by").order_by("at", "id")
        )
    )
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if version is not None:
        qs = qs.filter(use_case_id=version.model.use_case_id).filter(
            Q(model_version__isnull=True) | Q(model_version=version)
        )
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("use_case_id", "consideration__order", "model_version_id", "-id")


def obligation_for(*, version, code: str) -> Obligation | None:
    """The active obligation ``version`` owes on one consideration (its own, or the use
    case's for a use-case-scope consideration), or None."""
    return obligation_list(version=version).filter(consideration__code=code).first()


def obligation_get(*, pk: int) -> Obligation | None:
    return obligation_list(active=None).filter(pk=pk).first()


@memoized
def obligations_for_rules(*, use_case, version=None) -> dict[str, dict[str, Any]]:
    """{consideration code: parameters} of the active, not waived obligations: what the
    sign-off, bias and monitoring workflows must enforce. With ``version``, what that
    version owes; without, the use case's (a version-scope consideration read from its
    newest version's obligation)."""
    qs = (
        obligation_list(version=version)
        if version is not None
        else obligation_list(use_case=use_case)
    )
    return {
        o.consideration.code: dict(o.parameters, level=o.level)
        for o in qs.exclude(status=Obligation.Status.WAIVED)
        .prefetch_related(None)
        .order_by("consideration__order", F("model_version_id").asc(nulls_first=True), "id")
    }


def version_obligations_for_gate(version) -> list[dict[str, Any]]:
    """Everything ``version`` owes (the policy and regulations' requirements of its use
    case), as the plain data ``core.promotion_rules.blocking_items`` reads: code, level,
    status, blocks, evidence, the check of non-document evidence, and ``missing`` when
    the obligation is not open for this version yet (fails closed). ``row`` is the
    Obligation (None when missing)."""
    from core import obligation_rules
    from governance.evidence_checks import evidence_check
    from governance.selectors.policy import policy_published_latest, policy_requirements_for

    use_case = version.model.use_case
    rows = {o.consideration.code: o for o in obligation_list(version=version)}
    owed: dict[str, tuple[str, dict]] = {}
    published = policy_published_latest()
    if use_case.risk_tier is not None and published is not None:
        requirements = policy_requirements_for(
            tier=use_case.risk_tier,
            regulation_codes=list(use_case.regulations.values_list("code", flat=True)),
            version=published,
        )
        owed = {
            d.consideration: (d.level, d.parameters) for d in obligation_rules.derive(requirements)
        }
    out = []
    for code in sorted(set(owed) | set(rows)):
        row = rows.get(code)
        level, parameters = (row.level, row.parameters) if row else owed[code]
        evidence = parameters.get("evidence") or "document"
        item = {
            "code": code,
            "level": level,
            "status": row.status if row else "open",
            "blocks": list(parameters.get("blocks") or []),
            "evidence": evidence,
            "missing": row is None,
            "row": row,
        }
        if evidence not in ("document", "signatures"):
            item["check"] = evidence_check(evidence, version)
        out.append(item)
    return out


def obligations_gating_move(*, version, environment: str) -> list[dict[str, Any]]:
    """The obligations that gate ``version``'s entry into ``environment`` (see
    ``version_obligations_for_gate``), satisfied or not: what a signature on that move
    binds and what the gate and the promotion request evaluate. Each dict gains
    ``problem``: None when satisfied, else why not."""
    from core import promotion_rules

    out = []
    for item in version_obligations_for_gate(version):
        if promotion_rules.obligation_gates(item, environment):
            item["problem"] = promotion_rules.obligation_problem(item)
            out.append(item)
    return out


def obligations_overdue(*, today=None) -> QuerySet[Obligation]:
    today = today or timezone.localdate()
    return obligation_list().filter(status__in=PENDING, due_date__lt=today)


# What makes an obligation news to its owner (the daily digest, issue 18).
NEWS = (
    ObligationEvent.Kind.CREATED,
    ObligationEvent.Kind.CHANGED,
    ObligationEvent.Kind.OWNER_CHANGED,
)


def obligation_digest_items(*, since, until) -> list[dict[str, Any]]:
    """Active obligations with an owner whose latest news (created, changed, owner
    changed) was recorded in (``since``, ``until``], one query: owner id, the time of
    that news (``at``), use case (id and name), consideration name, level and status
    labels, due date; by use case name, then consideration order."""
    levels = dict(Obligation._meta.get_field("level").choices)
    statuses = dict(Obligation.Status.choices)
    rows = (
        Obligation.objects.filter(
            active=True,
            owner__isnull=False,
            events__kind__in=NEWS,
            events__at__gt=since,
            events__at__lte=until,
        )
        .values(
            "pk",
            "owner_id",
            "use_case_id",
            "level",
            "status",
            "due_date",
            use_case_name=F("use_case__name"),
            consideration_name=F("consideration__name"),
        )
        .annotate(at=Max("events__at"))
        .order_by("use_case__name", "use_case_id", "consideration__order", "pk")
    )
    return [
        {
            "owner_id": row["owner_id"],
            "at": row["at"],
            "use_case_id": row["use_case_id"],
            "use_case": row["use_case_name"],
            "consideration": row["consideration_name"],
            "level": levels.get(row["level"], row["level"]),
            "status": statuses.get(row["status"], row["status"]),
            "due": row["due_date"],
        }
        for row in rows
    ]


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
    (columns), the overdue ones per tier, and the home page's two figures (``open``:
    still owed, ``overdue``: owed and past due, whatever the tier, as
    ``obligation_kpis``), in one query: counts per use case and status from the
    ``obligation_active_tally`` index, summed per risk tier by the database, which
    hands back a row per (tier, status) instead of one per (use case, status) (issue
    18: joining 100,000 obligations to their use cases took 300 ms; reading the 13,648
    (use case, status) groups and 10,000 tiers into Python, most of the page's cold
    time)."""
    from inventory.choices import RiskTier
    from inventory.models import UseCase

    today = today or timezone.localdate()
    groups = (
        Obligation.objects.filter(active=True)
        .values("use_case_id", "status")
        .annotate(n=Count("id"), late=Count("id", filter=Q(status__in=PENDING, due_date__lt=today)))
        .order_by()
    )
    inner, params = groups.query.sql_with_params()
    # Identifiers quoted by the backend, the inner query compiled by the ORM, its values
    # passed as parameters: nothing from a request is put into the text.
    quote = connection.ops.quote_name
    sql = (
        f"SELECT u.{quote('risk_tier')}, g.{quote('status')}, SUM(g.{quote('n')}),"  # noqa: S608
        f" SUM(g.{quote('late')}) FROM ({inner}) g LEFT JOIN {quote(UseCase._meta.db_table)} u"
        f" ON u.{quote('id')} = g.{quote('use_case_id')}"
        f" GROUP BY u.{quote('risk_tier')}, g.{quote('status')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts: dict[tuple[str, int | None], int] = {}
    late: dict[int | None, int] = {}
    owed = 0
    for tier, status, n, overdue in rows:
        counts[(status, tier)] = int(n)
        late[tier] = late.get(tier, 0) + int(overdue)
        if status in PENDING:
            owed += int(n)
    tiers = list(RiskTier)
    return {
        "tiers": [t.label for t in tiers],
        "rows": [
            {"label": label, "counts": [counts.get((status, t.value), 0) for t in tiers]}
            for status, label in Obligation.Status.choices
        ],
        "overdue": [late.get(t.value, 0) for t in tiers],
        "open": owed,
        "overdue_total": sum(late.values()),
    }
