"""Findings for the scale portfolio (``seed_scale``, issue 16): about one model version
in five has a finding, at every severity and in every state of the flow, with owners,
due dates and ages spread as in a real portfolio, so the findings list, its ageing
chart, My work and the governance snapshot are measured on realistic data.

Bulk-created, said so: these are rows for measuring pages, not a history (no finding
events, no e-mails); the flow itself is exercised by ``demo.findings`` through the
services.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from core import finding_rules as fr
from reviews.models import Finding

SHARE = 0.2
SOURCES = ("manual", "audit", "review", "validation", "monitoring")
# (status, weight): most findings are dealt with, some still open.
STATUSES = ((fr.OPEN, 3), (fr.PLANNED, 2), (fr.REMEDIATED, 1), (fr.VERIFIED, 1), (fr.CLOSED, 5))
TITLES = (
    "Holdout sample smaller than the policy asks",
    "Monitoring thresholds not documented",
    "Feature lineage missing for two inputs",
    "Champion-challenger comparison not pre-registered",
    "Model card out of date after retraining",
)


def scale_findings(versions, *, seed: int = 0) -> int:
    """Open findings on about ``SHARE`` of ``versions`` (ModelVersion rows with
    ``registered_by``); returns how many were created."""
    rng = random.Random(f"findings-{seed}")
    now = timezone.now()
    states = [s for s, w in STATUSES for _ in range(w)]
    rows = []
    for i, version in enumerate(versions):
        if i and rng.random() >= SHARE:  # the first always has one: no portfolio without
            continue
        status = rng.choice(states)
        severity = rng.choice(fr.SEVERITIES)
        age = rng.randint(1, 300)
        opened = now - timedelta(days=age)
        due = timezone.localdate(opened) + timedelta(
            days=fr.DEFAULT_RULES[severity].remediation_days
        )
        owner = version.registered_by
        done = status in (fr.REMEDIATED, fr.VERIFIED, fr.CLOSED)
        rows.append(
            Finding(
                model_version=version,
                source=rng.choice(SOURCES),
                severity=severity,
                title=rng.choice(TITLES),
                status=status,
                owner=owner,
                due_on=due,
                opened_by=owner,
                opened_at=opened,
                remediation_plan="Re-run with the policy's sample size."
                if status != fr.OPEN
                else "",
                remediated_by=owner if done else None,
                remediated_at=opened + timedelta(days=age // 2) if done else None,
                resolved_at=opened + timedelta(days=age - 1) if status == fr.CLOSED else None,
            )
        )
    Finding.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
