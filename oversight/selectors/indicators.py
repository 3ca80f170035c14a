"""The governance indicators of the daily snapshot (issue 16, Step 8), each read set-based
from the apps' own models and selectors: a constant number of queries whatever the size
of the portfolio.

The indicators are a registry of named groups; each group is one function of the day
returning ``{key: value}`` (flat keys such as ``findings.open.severity.high``) and names
its headline keys (what the KPI page charts and a KRI may watch). One more group is one
line::

    register("attestations", attestation_indicators, {"attestations.completion": "..."})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from core import finding_rules as fr
from core import kpi_rules
from engagement.selectors import engagement_kpis
from governance.models import Consideration, Obligation
from governance.selectors.obligations import PENDING
from inventory.choices import RiskTier
from inventory.models import ModelVersion, UseCase
from monitoring.models import DriftAlert
from reviews.models import BlockingWaiver, Finding, PromotionRequest
from reviews.selectors.periodic import periodic_review_index

Values = dict[str, float | int | None]
APPROVAL_WINDOW_DAYS = 90
# Age buckets of the findings still to deal with, as keys (core.finding_rules' buckets).
AGE_KEYS = {label: label.replace(" days", "").replace(" ", "-") for label, _, _ in fr.AGE_BUCKETS}


@dataclass(frozen=True)
class Indicator:
    group: str
    compute: Callable[[date], Values]
    headlines: dict[str, str]


INDICATORS: dict[str, Indicator] = {}


def register(group: str, compute: Callable[[date], Values], headlines: dict[str, str]) -> None:
    """Add (or replace) a group of indicators of the daily snapshot."""
    INDICATORS[group] = Indicator(group, compute, headlines)


def governance_indicators(*, today: date | None = None) -> Values:
    """Every registered group's indicators on ``today``, as one flat dict."""
    today = today or timezone.localdate()
    out: Values = {}
    for indicator in INDICATORS.values():
        out.update(indicator.compute(today))
    return out


def headline_labels() -> dict[str, str]:
    """{headline key: label}, in registration order."""
    return {k: label for i in INDICATORS.values() for k, label in i.headlines.items()}


def indicator_keys() -> set[str]:
    """The keys a KRI may watch: the headlines, the fixed breakdowns (tiers, severities,
    ages) and whatever the latest snapshot holds (considerations, measures)."""
    from oversight.models import GovernanceSnapshot

    keys = set(headline_labels())
    for state in ("open", "overdue"):
        keys |= {f"obligations.{state}.tier.{t.value}" for t in RiskTier}
    keys |= {f"findings.open.severity.{s}" for s in fr.SEVERITIES}
    keys |= {f"findings.open.age.{k}" for k in AGE_KEYS.values()}
    latest = GovernanceSnapshot.objects.order_by("-day").values_list("indicators", flat=True)
    keys |= set(latest.first() or {})
    return keys


# --- The groups ----------------------------------------------------------------------------


def obligation_indicators(today: date) -> Values:
    """Active obligations still owed (open or evidence submitted, as the obligations
    page's ``state=owed``) and those past due (``state=overdue``), in total, by the use
    case's risk tier and by consideration. Three queries: counts per use case and
    consideration, then the tiers and codes (as ``obligation_status_by_tier``)."""
    rows = (
        Obligation.objects.filter(active=True, status__in=PENDING)
        .values_list("use_case_id", "consideration_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_date__lt=today)))
        .order_by()
    )
    tier_of = dict(UseCase.objects.order_by().values_list("pk", "risk_tier"))
    code_of = dict(Consideration.objects.order_by().values_list("pk", "code"))
    out: Values = {"obligations.open": 0, "obligations.overdue": 0}
    for t in RiskTier:
        out[f"obligations.open.tier.{t.value}"] = out[f"obligations.overdue.tier.{t.value}"] = 0
    for use_case_id, consideration_id, n, late in rows:
        tier, code = tier_of.get(use_case_id), code_of.get(consideration_id)
        pairs = [("open", n), ("overdue", late)]
        for state, count in pairs:
            out[f"obligations.{state}"] += count
            if tier is not None:
                out[f"obligations.{state}.tier.{tier}"] += count
            key = f"obligations.{state}.consideration.{code}"
            out[key] = out.get(key, 0) + count
    return out


def approval_indicators(today: date) -> Values:
    """Median days from promotion request to approval, over the requests approved in
    the last 90 days (approved then revoked ones count: they were approved)."""
    since = today - timedelta(days=APPROVAL_WINDOW_DAYS)
    rows = PromotionRequest.objects.filter(
        status__in=[PromotionRequest.Status.APPROVED, PromotionRequest.Status.REVOKED],
        decided_at__date__gte=since,
        decided_at__date__lte=today,
    ).values_list("requested_at", "decided_at")
    days = [(decided - requested).total_seconds() / 86400 for requested, decided in rows]
    return {"approvals.median_days": kpi_rules.median(days), "approvals.count": len(days)}


def finding_indicators(today: date) -> Values:
    """Findings still to deal with (unresolved or accepted: the findings list's
    ``unresolved=true``) by severity and by age since opened, the overdue ones
    (``overdue=true``), and the open bias breaches (findings of bias summaries still to
    deal with: ``source=bias&unresolved=true``). One query."""
    rows = Finding.objects.filter(status__in=[*fr.UNRESOLVED, fr.ACCEPTED]).values_list(
        "status", "severity", "due_on", "opened_at", "source"
    )
    out: Values = {"findings.open": 0, "findings.overdue": 0, "bias.breaches_open": 0}
    out |= {f"findings.open.severity.{s}": 0 for s in fr.SEVERITIES}
    out |= {f"findings.open.age.{k}": 0 for k in AGE_KEYS.values()}
    for status, severity, due, opened, source in rows:
        out["findings.open"] += 1
        out[f"findings.open.severity.{severity}"] += 1
        age = (today - timezone.localtime(opened).date()).days
        out[f"findings.open.age.{AGE_KEYS[fr.age_bucket(age)]}"] += 1
        out["findings.overdue"] += fr.is_overdue(status, due, today)
        out["bias.breaches_open"] += source == Finding.Source.BIAS
    return out


def version_indicators(today: date) -> Values:
    """Versions in production, those without a monitoring configuration, and those past
    their periodic review (the periodic reviews page's ``status=overdue``)."""
    prod = ModelVersion.objects.filter(environment="prod")
    counts = prod.aggregate(
        n=Count("id"), unmonitored=Count("id", filter=Q(monitoring_config__isnull=True))
    )
    return {
        "versions.production": counts["n"],
        "versions.unmonitored": counts["unmonitored"],
        "versions.review_overdue": len(periodic_review_index(today=today, status="overdue")),
    }


def drift_indicators(today: date) -> Values:
    """Drift alerts not resolved (open or acknowledged), and those not acknowledged."""
    counts = DriftAlert.objects.exclude(status=DriftAlert.Status.RESOLVED).aggregate(
        n=Count("id"), unacknowledged=Count("id", filter=Q(status=DriftAlert.Status.OPEN))
    )
    return {
        "drift.alerts_open": counts["n"],
        "drift.alerts_unacknowledged": counts["unacknowledged"],
    }


def waiver_indicators(today: date) -> Values:
    """Current waivers: blocking items waived on sign-offs still in force (approved,
    not revoked), in total and by the measure waived (``core.kpi_rules.measure_of``)."""
    codes = list(
        BlockingWaiver.objects.filter(request__status=PromotionRequest.Status.APPROVED)
        .values_list("code", flat=True)
        .order_by()
    )
    return {
        "waivers.current": len(codes),
        **kpi_rules.tally((kpi_rules.measure_of(c) for c in codes), prefix="waivers.measure."),
    }


register(
    "obligations",
    obligation_indicators,
    {"obligations.open": "Obligations still owed", "obligations.overdue": "Obligations overdue"},
)
register(
    "approvals",
    approval_indicators,
    {"approvals.median_days": "Median days from request to approval (90 days)"},
)
register(
    "findings",
    finding_indicators,
    {
        "findings.open": "Findings still to deal with",
        "findings.overdue": "Findings overdue",
        "bias.breaches_open": "Bias breaches open",
    },
)
register(
    "versions",
    version_indicators,
    {
        "versions.unmonitored": "Versions in production without monitoring",
        "versions.review_overdue": "Versions past their periodic review",
    },
)
register("drift", drift_indicators, {"drift.alerts_open": "Drift alerts open"})
register("waivers", waiver_indicators, {"waivers.current": "Waivers in force"})


def engagement_indicators(today: date) -> Values:
    """Step 7: the share of people (in %) who acknowledged the current publications and
    whose required training is current (``engagement.selectors.engagement_kpis``)."""
    kpis = engagement_kpis(on=today)
    return {
        "attestations.completion_pct": _percent(kpis["attestation_completion"]),
        "training.completion_pct": _percent(kpis["training_completion"]),
    }


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


register(
    "engagement",
    engagement_indicators,
    {
        "attestations.completion_pct": "Attestation completion (%)",
        "training.completion_pct": "Training completion (%)",
    },
)
