"""Step 8, "monitor and refine" (issue 16): the daily governance snapshot, the key risk
indicators on it, and the framework's own review with its policy change proposals."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from audit.append_only import AppendOnlyModel
from core import kpi_rules


class GovernanceSnapshot(AppendOnlyModel):
    """The governance indicators of the portfolio as they stood on one day (one row a
    day, taken by beat; never changed afterwards)."""

    day = models.DateField(unique=True)
    taken_at = models.DateTimeField()
    indicators = models.JSONField(
        default=dict, help_text="{indicator key: value}, e.g. findings.open.severity.high."
    )

    class Meta:
        ordering = ["-day"]
        verbose_name = "governance snapshot"
        verbose_name_plural = "governance snapshots"

    def __str__(self) -> str:
        return f"Governance snapshot of {self.day:%Y-%m-%d}"


class KeyRiskIndicator(models.Model):
    """A threshold on one indicator of the daily snapshot: past its breach level, the
    governance leads are e-mailed (once a day) and the KPI page shows it in breach."""

    indicator = models.CharField(max_length=120, help_text="The indicator's key.")
    name = models.CharField(max_length=200, blank=True)
    comparison = models.CharField(
        max_length=10,
        choices=[(kpi_rules.ABOVE, "Above"), (kpi_rules.BELOW, "Below")],
        default=kpi_rules.ABOVE,
        help_text="Above: higher is worse (e.g. overdue findings). Below: lower is worse.",
    )
    warning_level = models.FloatField(null=True, blank=True)
    breach_level = models.FloatField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "id"]
        verbose_name = "key risk indicator"
        verbose_name_plural = "key risk indicators"
        constraints = [
            models.UniqueConstraint(fields=["indicator"], name="kri_once_per_indicator"),
        ]

    def __str__(self) -> str:
        return self.name or self.indicator

    def clean(self) -> None:
        from oversight.selectors.indicators import indicator_keys

        errors = kpi_rules.threshold_errors(
            comparison=self.comparison, warning=self.warning_level, breach=self.breach_level
        )
        if self.indicator not in indicator_keys():
            errors["indicator"] = (
                f"Unknown indicator {self.indicator!r}: choose one of "
                f"{', '.join(sorted(indicator_keys()))}."
            )
        if errors:
            raise ValidationError(errors)

    def level_for(self, value) -> str:
        return kpi_rules.kri_level(
            value, comparison=self.comparison, warning=self.warning_level, breach=self.breach_level
        )


class FrameworkReview(models.Model):
    """The framework's own review over a period (yearly by default): the period's
    indicators frozen when it was opened, the waivers and findings per policy cell, the
    conclusion, and the governance lead's signature. Signed, it never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    indicators = models.JSONField(
        default=dict, blank=True, help_text="The period's indicators, frozen at creation."
    )
    cells = models.JSONField(
        default=list, blank=True, help_text="Waivers and findings per policy cell."
    )
    conclusion = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = "framework review"
        verbose_name_plural = "framework reviews"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="framework_review_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Framework review {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class PolicyChangeProposal(models.Model):
    """A change to one policy cell (risk tier x consideration) the review proposes, why,
    the evidence that motivated it, and the policy draft it became."""

    review = models.ForeignKey(FrameworkReview, on_delete=models.PROTECT, related_name="proposals")
    tier = models.PositiveSmallIntegerField()
    consideration = models.ForeignKey(
        "governance.Consideration", on_delete=models.PROTECT, related_name="+"
    )
    proposed_level = models.CharField(max_length=10)
    rationale = models.TextField()
    evidence = models.JSONField(
        default=list, blank=True, help_text="[{kind, id, label}] of findings, waivers, snapshots."
    )
    policy_draft = models.ForeignKey(
        "governance.PolicyVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The policy draft the proposal became.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["review", "id"]
        verbose_name = "policy change proposal"
        verbose_name_plural = "policy change proposals"

    def __str__(self) -> str:
        return f"Proposal #{self.pk}: tier {self.tier} -> {self.proposed_level}"
