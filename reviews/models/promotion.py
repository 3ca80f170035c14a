"""Sign-off workflow records: promotion requests, electronic signatures, waivers of
blocking items, findings, periodic reviews, deployment-gate calls and the e-mail outbox.

Signatures, waivers and gate calls are append-only: ``save`` refuses to change a stored
row and ``delete`` refuses outright (on PostgreSQL a trigger refuses too, see
migration 0002). A request's status moves forward only, through the services; every
move is recorded in the audit trail.
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyModel
from core import promotion_rules as rules
from inventory.choices import Environment


class PromotionRequest(models.Model):
    """A model version asks to move to the next environment (or back, or out)."""

    class Kind(models.TextChoices):
        PROMOTE = rules.PROMOTE, "Promotion"
        ROLLBACK = rules.ROLLBACK, "Rollback"
        RETIRE = rules.RETIRE, "Retirement"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending sign-off"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REVOKED = "revoked", "Approval revoked"

    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="promotion_requests"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROMOTE)
    from_environment = models.CharField(max_length=10, choices=Environment.choices)
    to_environment = models.CharField(max_length=10, choices=Environment.choices)
    justification = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promotion_requests"
    )
    requested_at = models.DateTimeField()
    required_signoffs = models.PositiveSmallIntegerField(
        help_text="From the use case's human-signoff obligation when the request was made."
    )
    slots = models.JSONField(
        default=list,
        help_text="The RACI task whose Accountable fills each required sign-off.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version"],
                condition=models.Q(status="pending"),
                name="promotion_one_pending_per_version",
                violation_error_message="This version already has a pending request.",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return (
            f"#{self.pk} {self.model_version}: {self.get_kind_display().lower()} "
            f"{self.from_environment} -> {self.to_environment}"
        )

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class PeriodicReview(AppendOnlyModel):
    """A signed periodic review of a version in production (model risk management)."""

    class Outcome(models.TextChoices):
        SATISFACTORY = "satisfactory", "Satisfactory: keep in production"
        FINDINGS = "findings", "Findings raised: keep under conditions"

    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="periodic_reviews"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    note = models.TextField()
    interval_days = models.PositiveIntegerField(
        help_text="The interval the policy set when the review was signed."
    )

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"Periodic review of {self.model_version} on {self.reviewed_at:%Y-%m-%d}"


class Signature(AppendOnlyModel):
    """An electronic signature (in the manner of 21 CFR Part 11): who, when, what it
    means, why, and a hash binding it to exactly what was signed."""

    class Meaning(models.TextChoices):
        REVIEWED = "reviewed", "Reviewed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Approval revoked"
        PERIODIC_REVIEW = "periodic_review", "Periodic review"
        PROTOCOL_LOCKED = "protocol_locked", "Experiment protocol signed and locked"
        RESULT_SIGNED = "result_signed", "Experiment result signed"
        RESULT_OVERRIDDEN = (
            "result_overridden",
            "Experiment result declared valid despite its data-quality checks",
        )
        VALIDATED = "validated", "Validated"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted until a date"

    request = models.ForeignKey(
        PromotionRequest,
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
    )
    periodic_review = models.OneToOneField(
        PeriodicReview,
        on_delete=models.PROTECT,
        related_name="signature",
        null=True,
        blank=True,
    )
    experiment = models.ForeignKey(
        "experiments.Experiment",
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
    )
    validation = models.OneToOneField(
        "reviews.Validation",
        on_delete=models.PROTECT,
        related_name="signature",
        null=True,
        blank=True,
    )
    finding_acceptance = models.OneToOneField(
        "reviews.FindingAcceptance",
        on_delete=models.PROTECT,
        related_name="signature",
        null=True,
        blank=True,
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(
        max_length=300, help_text="The signer's full name and username when signing."
    )
    signed_at = models.DateTimeField(help_text="The server's time (UTC).")
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    slot = models.CharField(
        max_length=50, blank=True, help_text="The RACI task whose sign-off this fills."
    )
    reason = models.TextField(blank=True)
    manifest = models.JSONField(help_text="What was signed: artifact, evidence, obligations.")
    manifest_hash = models.CharField(max_length=64)
    auth_method = models.CharField(max_length=30, default="password re-entry")

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "signer"],
                condition=models.Q(meaning__in=["reviewed", "approved", "rejected"]),
                name="signature_once_per_request",
                violation_error_message="You have already signed this request.",
            ),
            # A request, a periodic review or an experiment (issue #7); the experiment
            # meanings only on an experiment, so that a request never takes one.
            models.CheckConstraint(
                condition=models.Q(
                    request__isnull=False,
                    meaning__in=["reviewed", "approved", "rejected", "revoked"],
                )
                | models.Q(periodic_review__isnull=False)
                | models.Q(
                    experiment__isnull=False,
                    meaning__in=["protocol_locked", "result_signed", "result_overridden"],
                )
                | models.Q(validation__isnull=False, meaning="validated")
                | models.Q(finding_acceptance__isnull=False, meaning="risk_accepted"),
                name="signature_has_subject",
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.signed_at:%Y-%m-%d %H:%M}"
        return f"{self.printed_name}: {self.get_meaning_display()} at {when} UTC"


class SignatureVoiding(AppendOnlyModel):
    """A signature on a pending request that stops counting because who is Accountable
    for its sign-off changed in the RACI after it was given (issue 12). The signature
    stays as it was; this row says what changed, when and by whom."""

    signature = models.OneToOneField(Signature, on_delete=models.PROTECT, related_name="voiding")
    request = models.ForeignKey(PromotionRequest, on_delete=models.PROTECT, related_name="voidings")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    what = models.TextField(help_text="What changed, for people.")
    detail = models.JSONField(
        default=dict, blank=True, help_text="The sign-off and who was Accountable before and after."
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Signature #{self.signature_id} voided at {self.at:%Y-%m-%d %H:%M}"


class BlockingWaiver(AppendOnlyModel):
    """An authorised person lets a request be approved despite one blocking item."""

    request = models.ForeignKey(PromotionRequest, on_delete=models.PROTECT, related_name="waivers")
    code = models.CharField(max_length=120)
    message = models.TextField(help_text="The blocking item as it read when waived.")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "code"], name="waiver_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"Waiver of {self.code} on request #{self.request_id}"


class GateCall(AppendOnlyModel):
    """One question of a deployment pipeline to the gate, and the answer."""

    at = models.DateTimeField()
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    model_version = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gate_calls",
    )
    environment = models.CharField(max_length=20, blank=True)
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list)
    warnings = models.JSONField(
        default=list,
        blank=True,
        help_text="What the answer noted without blocking (e.g. a finding opened after the "
        "approval), in the shape of the reasons.",
    )
    request = models.ForeignKey(
        PromotionRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gate_calls",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"Gate call {self.at:%Y-%m-%d %H:%M}: {'allowed' if self.allowed else 'blocked'}"


class SigningFailure(AppendOnlyModel):
    """A signing attempt with a wrong password. Too many in a row lock the account's
    signing for a while (Part 11 asks that attempts at unauthorised use be detected)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    what = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Wrong signing password for user #{self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class GateRevision(models.Model):
    """The revision token of what the gate reads of one use case (``scope``: its id; 0:
    what every use case shares). Written only by database triggers
    (``reviews.gate_revisions``); the gate caches an answer under the tokens it read."""

    scope = models.BigIntegerField(primary_key=True)
    token = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"Gate revision of scope {self.scope}: {self.token}"
