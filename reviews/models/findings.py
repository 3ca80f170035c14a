"""Findings and their management (issue 16): severity and due date from the policy, an
owner from the RACI, a remediation plan with dated actions, and the status flow

    open -> remediation planned -> remediated -> verified -> closed

with risk acceptance instead of remediation (``FindingAcceptance``, a signed act by
the authority the policy names for the severity, until a date; the finding opens again
the day after). Every move is a ``FindingEvent`` (append-only) and an audit event; the
rules are in ``core.finding_rules``, the writes in ``reviews.services.findings``.
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyModel
from core import finding_rules


class Finding(models.Model):
    """Something wrong with a model version (a bias breach, a drift alert, a
    validator's observation, an auditor's). Until remediated and verified, or its risk
    accepted, it blocks the moves the policy names for its severity."""

    class Source(models.TextChoices):
        VALIDATION = "validation", "Validation"
        BIAS = "bias", "Bias summary"
        MONITORING = "monitoring", "Monitoring"
        EXPERIMENT = "experiment", "Experiment result"
        REVIEW = "review", "Periodic review"
        AUDIT = "audit", "Audit"
        MANUAL = "manual", "Manual"

    class Severity(models.TextChoices):
        LOW = finding_rules.LOW, "Low"
        MEDIUM = finding_rules.MEDIUM, "Medium"
        HIGH = finding_rules.HIGH, "High"
        CRITICAL = finding_rules.CRITICAL, "Critical"

    class Status(models.TextChoices):
        OPEN = finding_rules.OPEN, "Open"
        PLANNED = finding_rules.PLANNED, "Remediation planned"
        REMEDIATED = finding_rules.REMEDIATED, "Remediated"
        VERIFIED = finding_rules.VERIFIED, "Verified"
        CLOSED = finding_rules.CLOSED, "Closed"
        ACCEPTED = finding_rules.ACCEPTED, "Risk accepted"

    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="findings"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    key = models.CharField(
        max_length=200,
        blank=True,
        help_text="Set by automated sources so that a re-run finds its finding again.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings_owned",
        help_text="Who remediates it: from the use case's RACI when opened.",
    )
    due_on = models.DateField(
        null=True, blank=True, help_text="Remediate by: opening day + the policy's days."
    )
    policy_version = models.ForeignKey(
        "governance.PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The policy version whose rules set the due date.",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    remediation_plan = models.TextField(blank=True)
    remediated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    remediated_at = models.DateTimeField(null=True, blank=True)
    remediation_note = models.TextField(blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.TextField(blank=True)
    # Closing (named "resolved" since the first findings, kept for the records' sake).
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="closed by",
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name="closed at")
    resolution = models.TextField(blank=True, verbose_name="closing note")
    validation = models.ForeignKey(
        "reviews.Validation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        help_text="The signed validation that raised it.",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "key"],
                condition=~models.Q(status="closed") & ~models.Q(key=""),
                name="finding_one_unclosed_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="finding_status_severity"),
            models.Index(fields=["owner", "status"], name="finding_owner_status"),
        ]

    def __str__(self) -> str:
        return f"Finding #{self.pk}: {self.title}"

    @property
    def is_unresolved(self) -> bool:
        return self.status in finding_rules.UNRESOLVED


class RemediationAction(models.Model):
    """One dated action of a finding's remediation plan; marked done by the owner."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="actions")
    order = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["finding", "order", "id"]

    def __str__(self) -> str:
        return f"Action {self.order} of finding #{self.finding_id}: {self.text}"


class FindingEvent(AppendOnlyModel):
    """One move or change of a finding, by whom (none: the product) and why."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        PLANNED = "planned", "Remediation planned"
        ACTION_DONE = "action_done", "Action done"
        REMEDIATED = "remediated", "Remediated"
        VERIFIED = "verified", "Verified"
        VERIFICATION_REFUSED = "verification_refused", "Verification refused"
        CLOSED = "closed", "Closed"
        ACCEPTED = "accepted", "Risk accepted"
        REOPENED = "reopened", "Opened again"
        SEVERITY = "severity", "Severity changed"
        OWNER = "owner", "Owner changed"
        ESCALATED = "escalated", "Overdue: escalated"

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=24, choices=Action.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} (finding #{self.finding_id})"


class FindingAcceptance(AppendOnlyModel):
    """The risk of a finding accepted until a date instead of remediated: the finding
    stops blocking until ``expires_on`` has passed, then opens again. A signed act by
    the authority the policy names for its severity: its ``signature`` (meaning "risk
    accepted", password typed again) binds the finding, its severity, the artifact, the
    reason and the expiry. Acceptances recorded before acceptances were signed have
    none."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="acceptances")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_name = models.CharField(max_length=300)
    accepted_at = models.DateTimeField()
    expires_on = models.DateField(help_text="The last day the acceptance counts.")
    reason = models.TextField()

    class Meta:
        ordering = ["-accepted_at", "-id"]

    def __str__(self) -> str:
        return f"Risk of finding #{self.finding_id} accepted until {self.expires_on}"
