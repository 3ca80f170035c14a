"""Step 5: obligations per use case, derived from the published policy and the
regulations that apply to it, with an append-only history.

An obligation is never deleted or edited in its substance: when its level or
parameters change a new row replaces it and the old one is kept, inactive, with
``superseded_at`` set. Only its status moves forward (open -> evidence submitted ->
accepted, or waived), each move recorded as an ``ObligationEvent``.
"""

from django.conf import settings
from django.db import models

from governance.models.policy import MeasureLevel


class Obligation(models.Model):
    """One measure a use case owes on one consideration, why, and who owns it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
        ACCEPTED = "accepted", "Accepted"
        WAIVED = "waived", "Waived"

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.PROTECT, related_name="obligations"
    )
    consideration = models.ForeignKey(
        "governance.Consideration", on_delete=models.PROTECT, related_name="obligations"
    )
    level = models.CharField(max_length=10, choices=MeasureLevel.choices)
    text = models.TextField(blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    why = models.TextField(help_text="The policy cell or regulation requirement that set it.")
    policy_version = models.ForeignKey(
        "governance.PolicyVersion", on_delete=models.PROTECT, related_name="obligations"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="obligations",
        help_text="The RACI Accountable person; empty when the RACI names nobody.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    due_date = models.DateField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    evidence_link = models.URLField(max_length=1000, blank=True)
    evidence_file = models.FileField(upload_to="obligations/evidence/%Y/%m/", blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_size = models.PositiveBigIntegerField(null=True, blank=True)
    evidence_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    evidence_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["use_case", "consideration__order", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["use_case", "consideration"],
                condition=models.Q(active=True),
                name="obligation_one_active",
                violation_error_message="This use case already has an active obligation "
                "for this consideration.",
            ),
            models.CheckConstraint(
                condition=models.Q(active=True, superseded_at__isnull=True)
                | models.Q(active=False, superseded_at__isnull=False),
                name="obligation_superseded_dated",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.use_case}: {self.consideration} ({self.get_level_display()})"


class ObligationEvent(models.Model):
    """One entry of an obligation's history (append-only): who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        SUPERSEDED = "superseded", "Superseded"
        EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
        ACCEPTED = "accepted", "Accepted"
        WAIVED = "waived", "Waived"
        OWNER_CHANGED = "owner_changed", "Owner changed"

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (a recompute).",
    )
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["obligation", "at", "id"]

    def __str__(self) -> str:
        return f"{self.obligation}: {self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
