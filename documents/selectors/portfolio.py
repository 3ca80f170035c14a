"""The facts of the portfolio report for senior management (PRA SS1/23: board-level
reporting of model risk), as of one day: the inventory by risk tier and criticality,
the versions in production past their periodic review, open findings by severity and
age, overdue obligations and open drift alerts. Plain data: every age is counted to the report's
date, so the same records on the same day give the same report."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.db.models import Count

from core import finding_rules as fr
from core.audit_chain import iso_utc
from core.charts.governance import portfolio_heatmap
from governance.selectors.obligations import obligations_overdue
from inventory.choices import RiskTier
from inventory.models import ModelVersion, UseCase
from monitoring.models import DriftAlert
from reviews.models import Finding
from reviews.selectors.periodic import periodic_review_rows

OPEN_ALERTS = (DriftAlert.Status.OPEN, DriftAlert.Status.ACKNOWLEDGED)


def _day(moment) -> str:
    return iso_utc(moment)[:10] if moment else ""


def _inventory() -> dict[str, Any]:
    use_cases = UseCase.objects.all()
    matrix = {
        (row["criticality"], row["risk_tier"]): row["n"]
        for row in use_cases.exclude(risk_tier=None)
        .values("criticality", "risk_tier")
        .annotate(n=Count("id"))
    }
    environments = dict(
        ModelVersion.objects.values("environment")
        .annotate(n=Count("id"))
        .values_list("environment", "n")
    )
    by_tier = [
        [label, sum(n for (_c, tier), n in matrix.items() if tier == value)]
        for value, label in RiskTier.choices
    ]
    return {
        "use_cases": use_cases.count(),
        "unclassified": use_cases.filter(risk_tier=None).count(),
        "matrix": [[c, t, n] for (c, t), n in sorted(matrix.items())],
        "by_tier": by_tier,
        "versions_by_environment": sorted([env, n] for env, n in environments.items()),
    }


def _reviews_overdue(as_of: date) -> list[list[Any]]:
    rows = []
    for version, status in periodic_review_rows(today=as_of):
        if status.overdue:
            rows.append(
                [
                    version.model.use_case.name,
                    f"{version.model.name} {version.version_label}",
                    status.due.isoformat(),
                    status.overdue_days,
                    "yes" if status.past_grace else "no",
                ]
            )
    return sorted(rows, key=lambda r: -r[3])


def _findings(as_of: date) -> tuple[list[list[Any]], list[list[Any]], list[dict]]:
    """The findings still to deal with (neither verified nor closed) opened by
    ``as_of``: one row each, and a table of counts by age (rows) and severity."""
    still_open = (
        Finding.objects.exclude(status__in=[fr.VERIFIED, fr.CLOSED])
        .filter(opened_at__date__lte=as_of)
        .select_related("model_version__model__use_case", "owner")
        .order_by("opened_at", "pk")
    )
    rows, ages, sources = [], [], []
    for f in still_open:
        age = max(0, (as_of - f.opened_at.date()).days) if f.opened_at else 0
        ages.append((f.severity, age))
        version = f.model_version
        rows.append(
            [
                f"{version.model.use_case.name} ({version.model.name} {version.version_label})",
                f"{f.title} ({f.get_source_display()}, opened {_day(f.opened_at)})",
                f.get_severity_display(),
                f.get_status_display(),
                f.owner.get_username() if f.owner else "",
                age,
                f.due_on.isoformat() if f.due_on else "",
                "yes" if fr.is_overdue(f.status, f.due_on, as_of) else "no",
            ]
        )
        sources.append({"record": f"reviews.finding#{f.pk}"})
    by_age = [
        [bucket, *counts.values(), sum(counts.values())]
        for bucket, counts in fr.ageing(ages).items()
    ]
    return rows, by_age, sources


def _obligations(as_of: date) -> tuple[list[list[Any]], list[dict]]:
    overdue = obligations_overdue(today=as_of).order_by("due_date", "pk")
    rows, sources = [], []
    for o in overdue:
        rows.append(
            [
                o.use_case.name,
                o.use_case.get_risk_tier_display() if o.use_case.risk_tier else "",
                o.consideration.name,
                (o.owner.get_full_name() or o.owner.get_username()) if o.owner else "",
                o.due_date.isoformat(),
                (as_of - o.due_date).days,
            ]
        )
        sources.append({"record": f"governance.obligation#{o.pk}"})
    return rows, sources


def _drift_alerts() -> tuple[list[list[Any]], list[dict]]:
    alerts = (
        DriftAlert.objects.filter(
            status__in=[DriftAlert.Status.OPEN, DriftAlert.Status.ACKNOWLEDGED]
        )
        .select_related("config__model_version__model__use_case")
        .order_by("opened_at", "pk")
    )
    rows, sources = [], []
    for a in alerts:
        version = a.config.model_version
        rows.append(
            [
                version.model.use_case.name,
                f"{version.model.name} {version.version_label}",
                a.feature,
                a.get_kind_display(),
                a.get_status_display(),
                _day(a.opened_at),
                a.breaches,
            ]
        )
        sources.append({"record": f"monitoring.driftalert#{a.pk}"})
    return rows, sources


def portfolio_facts(as_of: date) -> tuple[dict, dict, list]:
    """(facts, figures, sources) of the portfolio as of ``as_of``."""
    inventory = _inventory()
    findings, by_age, finding_sources = _findings(as_of)
    obligations, obligation_sources = _obligations(as_of)
    alerts, alert_sources = _drift_alerts()
    facts = {
        "subject": {"portfolio": True, "as_of": as_of.isoformat()},
        "as_of": as_of.isoformat(),
        "inventory": inventory,
        "reviews_overdue": _reviews_overdue(as_of),
        "findings_open": findings,
        "findings_by_age": by_age,
        "obligations_overdue": obligations,
        "drift_alerts": alerts,
    }
    matrix = {(c, t): n for c, t, n in inventory["matrix"]}
    heatmap = portfolio_heatmap(matrix, tiers=RiskTier.choices)
    figures = {"portfolio_heatmap": json.loads(heatmap.to_json())}
    return facts, figures, finding_sources + obligation_sources + alert_sources
