"""Step 4: governance considerations, their measures, the versioned policy matrix
(risk tier x consideration -> measure level) and the regulations' requirements.

A published policy version is immutable: the model refuses to save or delete a
published version's row or its cells (services refuse earlier, with clearer errors), and
so does the database, to a raw UPDATE or DELETE too (``audit.db_guard.register_frozen``,
registered in ``GovernanceConfig.ready``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from accounts.roles import Role
from core import engagement_rules, policy_rules
from inventory.choices import RiskTier


def _all_roles() -> list[str]:
    return list(Role.values)


class MeasureLevel(models.TextChoices):
    """How strict a measure is; ranked none < light < medium < strict."""

    NONE = policy_rules.NONE, "None"
    LIGHT = policy_rules.LIGHT, "Light"
    MEDIUM = policy_rules.MEDIUM, "Medium"
    STRICT = policy_rules.STRICT, "Strict"


class Consideration(models.Model):
    """A governance consideration of the book's Table 8-3 (e.g. human sign-off)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Measure(models.Model):
    """What one consideration requires at one level: its text and machine-readable
    parameters (validated by ``policy_rules.PARAMETER_SCHEMAS``)."""

    consideration = models.ForeignKey(
        Consideration, on_delete=models.CASCADE, related_name="measures"
    )
    level = models.CharField(max_length=10, choices=MeasureLevel.choices)
    text = models.TextField()
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["consideration__order", "consideration_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["consideration", "level"], name="measure_unique_level"),
        ]

    def __str__(self) -> str:
        return f"{self.consideration}: {self.get_level_display()}"

    def clean(self) -> None:
        if self.consideration_id is None:
            return
        errors = policy_rules.validate_parameters(self.consideration.code, self.parameters)
        if errors:
            raise ValidationError({"parameters": errors})


class Policy(models.Model):
    """A governance policy, known by its versions (the organisation ships one)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """One version of a policy: a draft being edited, or a published, immutable matrix.

    Published versions are numbered 1, 2, ... in publishing order; at most one draft
    per policy exists at a time.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.PositiveIntegerField(null=True, blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty only for the default policy shipped with the product.",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    change_note = models.CharField(max_length=1000, blank=True)
    # Step 7 (issue 16): who acknowledges a publication, how fast, and whether a person
    # whose attestation or training lapsed may sign (core.engagement_rules).
    # Database defaults too: the data migrations that made earlier versions insert rows
    # without these columns.
    attestation_roles = models.JSONField(
        default=_all_roles,
        db_default=list(Role.values),
        help_text="The roles whose holders must acknowledge a publication (role codes).",
    )
    attestation_days = models.PositiveSmallIntegerField(
        default=engagement_rules.DEFAULT_ATTESTATION_DAYS,
        db_default=engagement_rules.DEFAULT_ATTESTATION_DAYS,
        help_text="Days to read and acknowledge a published policy version or ethical position.",
    )
    training_grace_days = models.PositiveSmallIntegerField(
        default=engagement_rules.DEFAULT_TRAINING_GRACE_DAYS,
        db_default=engagement_rules.DEFAULT_TRAINING_GRACE_DAYS,
        help_text="Days a person has to complete a training module newly required of them.",
    )
    lapsed_may_sign = models.BooleanField(
        default=engagement_rules.DEFAULT_LAPSED_MAY_SIGN,
        db_default=engagement_rules.DEFAULT_LAPSED_MAY_SIGN,
        help_text="Whether a person whose attestation or training lapsed may still sign.",
    )

    class Meta:
        ordering = ["policy", "-number", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"], name="policyversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["policy"],
                condition=models.Q(status="draft"),
                name="policyversion_one_draft",
                violation_error_message="This policy already has a draft.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True, published_at__isnull=True)
                | models.Q(status="published", number__isnull=False, published_at__isnull=False),
                name="policyversion_published_numbered",
                violation_error_message="A published version has a number and a date; "
                "a draft has neither.",
            ),
        ]

    def __str__(self) -> str:
        if self.status == self.Status.PUBLISHED:
            return f"{self.policy} v{self.number}"
        return f"{self.policy} (draft)"

    def save(self, *args, **kwargs):
        # The model-level guard behind the services' checks: a published version is
        # never changed (only the draft -> published transition is a save).
        if self._stored_status() == self.Status.PUBLISHED:
            raise ValidationError("A published policy version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise ValidationError("A published policy version cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def label(self) -> str:
        return f"v{self.number}" if self.number else "Draft"

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return PolicyVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()


class PolicyCell(models.Model):
    """One cell of a policy version: the measure level a risk tier requires for one
    consideration."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="cells")
    tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    consideration = models.ForeignKey(
        Consideration, on_delete=models.PROTECT, related_name="policy_cells"
    )
    level = models.CharField(max_length=10, choices=MeasureLevel.choices)
    # Frozen copy of the measure at publication, so that later edits of the measure
    # catalogue never change what a published version required.
    text = models.TextField(blank=True, help_text="The measure's text when published.")
    parameters = models.JSONField(
        default=dict, blank=True, help_text="The measure's parameters when published."
    )

    class Meta:
        ordering = ["version", "tier", "consideration__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "tier", "consideration"], name="policycell_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} × {self.consideration}: {self.get_level_display()}"

    def save(self, *args, **kwargs):
        if self._version_published():
            raise ValidationError("The cells of a published policy version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._version_published():
            raise ValidationError("The cells of a published policy version cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _version_published(self) -> bool:
        return PolicyVersion.objects.filter(
            pk=self.version_id, status=PolicyVersion.Status.PUBLISHED
        ).exists()


class PolicyFindingRule(models.Model):
    """What a policy version says about findings of one severity (issue 16): the days
    the owner has to remediate, the lowest authority that may accept the risk instead
    and for how long at most, and the moves an unresolved finding blocks. Frozen with
    its version; a version without rows follows ``core.finding_rules.DEFAULT_RULES``."""

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Authority(models.TextChoices):
        RISK_OFFICER = "risk-officer", "Risk officer"
        GOVERNANCE_LEAD = "governance-lead", "Governance lead"

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="finding_rules"
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    remediation_days = models.PositiveIntegerField(
        help_text="Days from opening the owner has to remediate."
    )
    acceptance_authority = models.CharField(
        max_length=20,
        choices=Authority.choices,
        help_text="The lowest role that may accept the risk instead of remediating.",
    )
    acceptance_max_days = models.PositiveIntegerField(
        help_text="The longest an acceptance of this severity may run."
    )
    blocks = models.JSONField(
        default=list,
        blank=True,
        help_text="The environments an unresolved finding of this severity keeps the "
        "version out of (dev, qa, preprod, prod).",
    )

    class Meta:
        ordering = ["version", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "severity"], name="policyfindingrule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.get_severity_display()} findings"

    def save(self, *args, **kwargs):
        if self._version_published():
            raise ValidationError(
                "The finding rules of a published policy version cannot be changed."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._version_published():
            raise ValidationError(
                "The finding rules of a published policy version cannot be deleted."
            )
        return super().delete(*args, **kwargs)

    def _version_published(self) -> bool:
        return PolicyVersion.objects.filter(
            pk=self.version_id, status=PolicyVersion.Status.PUBLISHED
        ).exists()

    def as_row(self) -> dict:
        return {
            "remediation_days": self.remediation_days,
            "acceptance_authority": self.acceptance_authority,
            "acceptance_max_days": self.acceptance_max_days,
            "blocks": list(self.blocks or []),
        }


class Requirement(models.Model):
    """One requirement of a regulation (e.g. GDPR's right to object to automated
    decision-making), mapped to the considerations it needs a minimum level on."""

    regulation = models.ForeignKey(
        "inventory.Regulation", on_delete=models.CASCADE, related_name="requirements"
    )
    code = models.SlugField(max_length=60, unique=True)
    text = models.CharField(max_length=500)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["regulation__name", "order", "id"]

    def __str__(self) -> str:
        return f"{self.regulation}: {self.text}"


class RequirementMinimum(models.Model):
    """A requirement's floor on one consideration: at least this measure level."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="minimums")
    consideration = models.ForeignKey(
        Consideration, on_delete=models.PROTECT, related_name="requirement_minimums"
    )
    min_level = models.CharField(max_length=10, choices=MeasureLevel.choices)

    class Meta:
        ordering = ["requirement", "consideration__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "consideration"], name="requirementminimum_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consideration} ≥ {self.get_min_level_display()}"
