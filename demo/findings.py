"""Demo findings (issue 16): one at every severity and every status of the flow, on
versions of the demo portfolio, moved through the product's own services by the people
the flow names (the owner from the RACI plans and remediates, the risk officer
verifies, the governance lead closes), with one overdue critical finding and one
accepted risk about to expire.

The opening day of findings on versions nobody has signed for is set back after opening
(as the promotion history's dates are), so that ages and due dates read as a live
portfolio's; the events and the audit trail say when the demo was loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from core import finding_rules as fr
from governance.selectors.policy import policy_finding_rules
from inventory.models import ModelVersion
from reviews.models import Finding, Signature
from reviews.services import acceptance as acceptance_svc
from reviews.services import findings as svc

AUTH = "demo data loader"
ACCEPTANCE_LEFT_DAYS = 5  # the accepted risk about to expire

# (use case, title, severity, source, status to reach, days since opened). A finding on
# a version that carries approval signatures is opened today (set back, it would read as
# known when they signed, and void them); the others are set back by their days.
FINDINGS: tuple[tuple[str, str, str, str, str, int], ...] = (
    (
        "Fraud-ring network analysis",
        "Graph features link customers through data collected without a documented lawful "
        "basis (GDPR Art. 6).",
        fr.CRITICAL,
        "audit",
        fr.OPEN,
        25,
    ),
    (
        "Real-time card fraud detection",
        "Alert thresholds were tuned on a sample without the new contactless channel.",
        fr.HIGH,
        "manual",
        fr.PLANNED,
        0,
    ),
    (
        "Delivery fleet predictive maintenance",
        "Failure labels come from a single depot's maintenance logs.",
        fr.MEDIUM,
        "review",
        fr.REMEDIATED,
        40,
    ),
    (
        "IFRS 9 probability of default",
        "Macro-economic overlay not back-tested over the 2020 downturn.",
        fr.HIGH,
        "manual",
        fr.VERIFIED,
        0,
    ),
    (
        "Complaint topic analysis",
        "Model inventory entry lists a retired training table.",
        fr.LOW,
        "audit",
        fr.CLOSED,
        70,
    ),
    (
        "Claims severity reserving",
        "Large-loss capping applied inconsistently between training and scoring.",
        fr.MEDIUM,
        "manual",
        fr.ACCEPTED,
        0,
    ),
    (
        "Credit-limit increase eligibility",
        "Monitoring dashboard has no owner on the operations side.",
        fr.LOW,
        "review",
        fr.OPEN,
        0,
    ),
    (
        "Spring campaign uplift analysis",
        "Uplift estimates are reported without confidence intervals.",
        fr.LOW,
        "review",
        fr.OPEN,
        200,
    ),
)


def _version(use_case_name: str) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(model__use_case__name=use_case_name)
        .select_related("model__use_case__technical_owner")
        .order_by("-registered_at", "-pk")
        .first()
    )


def _backdate(finding: Finding, days: int) -> Finding:
    if not days or Signature.objects.filter(request__model_version=finding.model_version).exists():
        return finding
    opened = timezone.now() - timedelta(days=days)
    rule = policy_finding_rules()[finding.severity]
    Finding.objects.filter(pk=finding.pk).update(
        opened_at=opened, due_on=fr.due_on(timezone.localdate(opened), rule)
    )
    finding.refresh_from_db()
    return finding


def _owner_side(finding: Finding) -> User:
    return finding.owner or finding.model_version.model.use_case.technical_owner


def _plan(finding: Finding, by: User) -> None:
    soon = min(timezone.localdate() + timedelta(days=7), finding.due_on)
    svc.finding_plan(
        finding=finding,
        by=by,
        plan="Re-run the analysis on the corrected data and document the result.",
        actions=[
            {"text": "Correct the data and re-run the analysis", "due_on": soon},
            {"text": "Update the model documentation", "due_on": finding.due_on},
        ],
    )


def _reach(finding: Finding, status: str, users: dict[str, User]) -> None:
    risk, lead = users["risk.officer"], users["governance.lead"]
    owner = _owner_side(finding)
    if status == fr.ACCEPTED:
        acceptance_svc.finding_accept_unchecked(
            finding=finding,
            by=risk,
            reason="Capping aligned in the next release; reserves reviewed monthly meanwhile.",
            expires_on=timezone.localdate() + timedelta(days=ACCEPTANCE_LEFT_DAYS),
            auth_method=AUTH,
        )
        return
    if status == fr.OPEN:
        return
    _plan(finding, owner)
    if status == fr.PLANNED:
        first = finding.actions.order_by("order").first()
        svc.remediation_action_done(action=first, by=owner, note="Done on the corrected data.")
        return
    for action in finding.actions.filter(done_at__isnull=True):
        svc.remediation_action_done(action=action, by=owner)
    svc.finding_remediate(
        finding=finding, by=owner, note="Corrected and re-run; results in the evidence folder."
    )
    if status == fr.REMEDIATED:
        return
    svc.finding_verify(finding=finding, by=risk, note="Re-run checked against the evidence.")
    if status == fr.CLOSED:
        svc.finding_close(finding=finding, by=lead, note="Verified; nothing left to do.")


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    if Finding.objects.filter(source__in=["audit", "manual", "review"]).exists():
        note("finding", "already loaded", False)
        return
    for use_case_name, title, severity, source, status, days in FINDINGS:
        version = _version(use_case_name)
        if version is None:
            continue
        finding, _ = svc.finding_open(
            version=version,
            by=users["risk.officer"],
            title=title,
            source=source,
            severity=severity,
        )
        finding = _backdate(finding, days)
        _reach(finding, status, users)
        note("finding", f"{severity} {status}: {title[:40]}", True)
