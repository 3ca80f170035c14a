"""Step 5: obligations per use case, derived from the published policy and the
regulations that apply to it, with an append-only history.

An obligation is never deleted or edited in its substance: when its level or
parameters change a new row replaces it and the old one is kept, inactive, with
``superseded_at`` set. Only its status moves forward (open -> evidence submitted ->
accepted, or waived), each move recorded as an ``ObligationEvent``.
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyModel
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
    model_version = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="obligations",
        help_text="The version this obligation is about; empty for a use-case-scope "
        "obligation (e.g. documentation and periodic review of the use case).",
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
    # What the evidence was produced for (issue 12): the version and its artifact.
    evidence_version = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The version the evidence was produced for (an earlier one when it "
        "was carried over after a change declared not material).",
    )
    evidence_artifact_sha256 = models.CharField(max_length=64, blank=True)
    evidence_covers = models.JSONField(
        default=list,
        blank=True,
        help_text="The evidence items (from the measure's parameters) the submitter "
        "says the evidence covers.",
    )

    class Meta:
        ordering = ["use_case", "consideration__order", "model_version_id", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["use_case", "consideration"],
                condition=models.Q(active=True, model_version__isnull=True),
                name="obligation_one_active",
                violation_error_message="This use case already has an active obligation "
                "for this consideration.",
            ),
            models.UniqueConstraint(
                fields=["model_version", "consideration"],
                condition=models.Q(active=True, model_version__isnull=False),
                name="obligation_one_active_per_version",
                violation_error_message="This version already has an active obligation "
                "for this consideration.",
            ),
            models.CheckConstraint(
                condition=models.Q(active=True, superseded_at__isnull=True)
                | models.Q(active=False, superseded_at__isnull=False),
                name="obligation_superseded_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            # The home page's tally reads only this index (issue 18: a scan of 100,000
            # wide rows took 300 ms on SQLite).
            models.Index(
                fields=["use_case", "status", "due_date"],
                condition=models.Q(active=True),
                name="obligation_active_tally",
            ),
            # The portfolio's list of what is owed, by due date: counted and paged from
            # this index alone (issue 16: 100,000 rows).
            models.Index(
                fields=["status", "due_date"],
                condition=models.Q(active=True),
                name="obligation_active_due",
            ),
            # The API's list, in its documented order (use case, then id): counted and
            # paged from this index alone (issue 18: 100,000 rows sorted after their
            # joins took 155 ms).
            models.Index(
                fields=["use_case", "id"],
                condition=models.Q(active=True),
                name="obligation_active_by_use_case",
            ),
            # The periodic reviews' intervals (reviews.selectors.periodic): the active
            # audit obligations of the use cases in production, in the order where the
            # last wins, without reading every use case's other obligations (issue 16).
            models.Index(
                fields=["consideration", "use_case", "model_version", "id"],
                condition=models.Q(active=True),
                name="obligation_active_consid",
            ),
            # "Obligations I own" on My work and its count in the navigation: one
            # person's owed obligations by due date, not a scan of the portfolio's.
            models.Index(
                fields=["owner", "status", "due_date", "id"],
                condition=models.Q(active=True),
                name="obligation_owner_owed",
            ),
        ]

    def __str__(self) -> str:
        where = (
            f"{self.use_case} {self.model_version.version_label}"
            if self.model_version_id
            else f"{self.use_case}"
        )
        return f"{where}: {self.consideration} ({self.get_level_display()})"


class ObligationEvent(AppendOnlyModel):
    """One entry of an obligation's history (append-only, in the database too since
    issue 13): who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        SUPERSEDED = "superseded", "Superseded"
        EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
        ACCEPTED = "accepted", "Accepted"
        WAIVED = "waived", "Waived"
        OWNER_CHANGED = "owner_changed", "Owner changed"
        CARRIED_OVER = "carried_over", "Evidence carried over"
        SCOPED = "scoped", "Assigned to a version"

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


class ChangeDeclaration(AppendOnlyModel):
    """A requester's declaration that a version changes nothing material from an
    earlier one of the same model (same training data, same features). Append-only;
    the second line's confirmation is a signed record of its own
    (``ChangeConfirmation``). Only a confirmed declaration lets the policy's
    ``carry_over`` evidence serve the new version."""

    model_version = models.OneToOneField(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="change_declaration"
    )
    previous = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    same_training_data = models.BooleanField()
    same_features = models.BooleanField()
    note = models.TextField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["-declared_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model_version}: not material since {self.previous}"

    @property
    def confirmed(self) -> bool:
        return ChangeConfirmation.objects.filter(declaration_id=self.pk).exists()


class ChangeConfirmation(AppendOnlyModel):
    """The second line's signed confirmation that a declared change is not material
    (a risk officer, a governance lead or a validator; never the declarer or an author
    of the version): the password typed again, never an API token. One per
    declaration; never changed."""

    declaration = models.OneToOneField(
        ChangeDeclaration, on_delete=models.PROTECT, related_name="confirmation"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_name = models.CharField(max_length=300)
    confirmed_at = models.DateTimeField()
    meaning = models.CharField(max_length=60, default="change confirmed not material")
    note = models.TextField(blank=True)
    auth_method = models.CharField(
        max_length=20,
        help_text="'password' for a signature typed now; 'migrated' for a confirmation "
        "given before confirmations were signed; 'seeded' for the demo loader.",
    )

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.declaration}: confirmed by {self.printed_name}"
