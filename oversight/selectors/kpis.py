"""Reads of the KPI trends page (issue 16, Step 8): the snapshots of a period, each
headline indicator's latest value, its KRI status and the filtered list behind it, the
trend series and the CSV export. Two queries whatever the period or the portfolio."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from core import finding_rules as fr
from core import kpi_rules
from inventory.choices import RiskTier
from oversight.models import GovernanceSnapshot, KeyRiskIndicator
from oversight.selectors.indicators import AGE_KEYS, headline_labels

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90

# The trend charts: (id, title, headline keys, y axis). One more is one line.
CHARTS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("obligations", "Obligations", ("obligations.open", "obligations.overdue"), "Obligations"),
    ("findings", "Findings", ("findings.open", "findings.overdue"), "Findings"),
    ("approvals", "Time to approval", ("approvals.median_days",), "Median days"),
    (
        "versions",
        "Versions in production",
        ("versions.unmonitored", "versions.review_overdue"),
        "Versions",
    ),
    ("alerts", "Bias and drift", ("bias.breaches_open", "drift.alerts_open"), "Open"),
    ("waivers", "Waivers in force", ("waivers.current",), "Waivers"),
    (
        "engagement",
        "Attestation and training completion",
        ("attestations.completion_pct", "training.completion_pct"),
        "% of people",
    ),
]


@dataclass
class IndicatorRow:
    key: str
    label: str
    value: Any
    status: str  # ok | warning | breach | unknown | "" (no KRI)
    kri: KeyRiskIndicator | None
    link: str
    breakdown: list[dict[str, Any]]


def snapshots_for(*, days: int, today: date) -> list[tuple[date, dict]]:
    """(day, indicators) of the ``days`` days to ``today``, oldest first. One query."""
    since = today - timedelta(days=days - 1)
    return list(
        GovernanceSnapshot.objects.filter(day__gte=since, day__lte=today)
        .order_by("day")
        .values_list("day", "indicators")
    )


def kri_list(*, active: bool = True) -> QuerySet[KeyRiskIndicator]:
    return KeyRiskIndicator.objects.filter(active=active).order_by("indicator", "pk")


def _q(url: str, **params) -> str:
    return f"{url}?{urlencode(params)}"


def drill_link(key: str, *, today: date) -> str:
    """The filtered list whose row count is the indicator's value ('' when no list
    shows those rows). The filters are the lists' own (checked by the tests)."""
    parts = key.split(".")
    if parts[0] == "obligations":
        params = {"state": "owed" if parts[1] == "open" else "overdue"}
        if len(parts) == 4:
            params[parts[2]] = parts[3]
        return _q(reverse("governance:obligations"), **params)
    findings = reverse("reviews:findings")
    if key == "findings.overdue":
        return _q(findings, overdue="true")
    if key == "bias.breaches_open":
        return _q(findings, source="bias", unresolved="true")
    if parts[0] == "findings" and parts[1] == "open":
        params = {"unresolved": "true"}
        if len(parts) == 4 and parts[2] == "severity":
            params["severity"] = parts[3]
        if len(parts) == 4 and parts[2] == "age":
            params.update(_age_range(parts[3], today))
        return _q(findings, **params)
    if key == "versions.review_overdue":
        return _q(reverse("reviews:periodic-reviews"), status="overdue")
    if parts[0] == "attestations":
        return reverse("engagement:campaigns")
    if parts[0] == "training":
        return reverse("engagement:modules")
    return ""


def _age_range(age_key: str, today: date) -> dict[str, str]:
    for label, low, high in fr.AGE_BUCKETS:
        if AGE_KEYS[label] == age_key:
            out = {"opened_before": (today - timedelta(days=low)).isoformat()}
            if high is not None:
                out["opened_after"] = (today - timedelta(days=high)).isoformat()
            return out
    return {}


def _breakdown(key: str, latest: dict, today: date) -> list[dict[str, Any]]:
    """The headline's parts: obligations by tier and consideration, findings by
    severity and age."""
    if key in ("obligations.open", "obligations.overdue"):
        tiers = dict(RiskTier.choices)
        rows = [(f"{key}.tier.{t}", f"Tier {label}") for t, label in tiers.items()]
        prefix = f"{key}.consideration."
        rows += [(k, k.removeprefix(prefix)) for k in sorted(latest) if k.startswith(prefix)]
    elif key == "findings.open":
        rows = [(f"{key}.severity.{s}", s.capitalize()) for s in fr.SEVERITIES]
        rows += [(f"{key}.age.{k}", label) for label, k in AGE_KEYS.items()]
    elif key == "waivers.current":
        prefix = "waivers.measure."
        rows = [(k, k.removeprefix(prefix)) for k in sorted(latest) if k.startswith(prefix)]
    else:
        return []
    return [
        {"key": k, "label": label, "value": latest.get(k), "link": drill_link(k, today=today)}
        for k, label in rows
    ]


def indicator_rows(
    latest: dict, kris: list[KeyRiskIndicator], *, today: date
) -> list[IndicatorRow]:
    """Each headline indicator with its latest value, KRI status and list link."""
    by_key = {k.indicator: k for k in kris}
    rows = []
    for key, label in headline_labels().items():
        kri = by_key.get(key)
        value = latest.get(key)
        rows.append(
            IndicatorRow(
                key=key,
                label=label,
                value=value,
                status=kri.level_for(value) if kri else "",
                kri=kri,
                link=drill_link(key, today=today),
                breakdown=_breakdown(key, latest, today),
            )
        )
    return rows


def kri_statuses(latest: dict, kris: list[KeyRiskIndicator]) -> list[dict[str, Any]]:
    """Every active KRI with its latest value and level (breaches first)."""
    rank = {kpi_rules.BREACH: 0, kpi_rules.WARNING: 1, kpi_rules.UNKNOWN: 2, kpi_rules.OK: 3}
    rows = [
        {"kri": k, "value": latest.get(k.indicator), "status": k.level_for(latest.get(k.indicator))}
        for k in kris
    ]
    return sorted(rows, key=lambda r: (rank[r["status"]], r["kri"].indicator))


def chart_series(snapshots: list[tuple[date, dict]], keys: tuple[str, ...]) -> dict[str, Any]:
    """{"days": [...], "lines": {label: values}} of ``keys`` over the snapshots."""
    labels = headline_labels()
    days: list[str] = []
    lines = {}
    for key in keys:
        days, values = kpi_rules.series(snapshots, key)
        lines[labels.get(key, key)] = values
    return {"days": days, "lines": lines}


def snapshots_csv(snapshots: list[tuple[date, dict]]) -> str:
    """One row per day, one column per indicator (headlines first, then the others in
    key order); a day without a value has an empty cell."""
    headlines = list(headline_labels())
    others = sorted({k for _, v in snapshots for k in v} - set(headlines))
    columns = headlines + others
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", *columns])
    for day, values in snapshots:
        writer.writerow(
            [day.isoformat(), *("" if values.get(c) is None else values[c] for c in columns)]
        )
    return out.getvalue()


def kri_breaches_latest() -> list[dict[str, Any]]:
    """The active KRIs in breach on the latest snapshot, for the home page. Two
    queries."""
    latest = (
        GovernanceSnapshot.objects.order_by("-day").values_list("indicators", flat=True).first()
    )
    if not latest:
        return []
    return [r for r in kri_statuses(latest, list(kri_list())) if r["status"] == kpi_rules.BREACH]
