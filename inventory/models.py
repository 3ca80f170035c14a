"""The model inventory: teams, use cases, models, model versions and datasets."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from audit.append_only import AppendOnlyModel
from inventory.choices import Criticality, Environment, LifecycleStatus, RiskTier

sha256_validator = RegexValidator(
    r"^[0-9a-f]{64}$", "Give the SHA-256 as 64 lower-case hexadecimal characters."
)


class Team(models.Model):
    """A team that builds and owns use cases; its members are data scientists or analysts."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """A dataset used to train, validate or score models, with its provenance."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=300, help_text="System or location it comes from.")
    provenance = models.TextField(help_text="How it was collected, extracted and transformed.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_datasets"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="datasets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DatasetColumn(models.Model):
    """One column of a dataset, flagged when it holds personal data, with its lineage."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=50, blank=True)
    is_pii = models.BooleanField("PII", default=False)
    lineage_notes = models.TextField(blank=True, help_text="Where the column comes from.")

    class Meta:
        ordering = ["dataset", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="datasetcolumn_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset}.{self.name}"


class Regulation(models.Model):
    """A regulation or framework that can apply to a use case (GDPR, SR 11-7, ...)."""

    class Area(models.TextChoices):
        FINANCE = "finance", "Financial model risk"
        PHARMA = "pharma", "Pharmaceutical (GxP)"
        PRIVACY = "privacy", "Data privacy"
        AI = "ai", "AI-specific"
        OTHER = "other", "Other"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    area = models.CharField(max_length=20, choices=Area.choices, default=Area.OTHER)
    jurisdiction = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        # Moved from the governance app with its table (inventory 0003, governance 0012).
        db_table = "governance_regulation"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UseCase(models.Model):
    """An analytics initiative: the unit that is classified, governed and signed off."""

    name = models.CharField(max_length=200, unique=True)
    purpose = models.TextField(help_text="Purpose and intended use.")
    restrictions = models.TextField(blank=True, help_text="Uses that are not allowed.")
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="business_use_cases"
    )
    technical_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="technical_use_cases"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="use_cases")
    status = models.CharField(
        max_length=20, choices=LifecycleStatus.choices, default=LifecycleStatus.IDEA
    )
    regulations = models.ManyToManyField(Regulation, related_name="use_cases", blank=True)
    uses_pii = models.BooleanField("uses PII", default=False)
    datasets = models.ManyToManyField(Dataset, related_name="use_cases", blank=True)
    # Current class, kept by governance.services.classification_submit (history in
    # governance.Classification); empty until the questionnaire is first answered.
    criticality = models.PositiveSmallIntegerField(
        choices=Criticality.choices, null=True, blank=True, editable=False
    )
    risk_tier = models.PositiveSmallIntegerField(
        choices=RiskTier.choices, null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["risk_tier"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A line break in the name broke every e-mail about the use case (it goes in the
        # subject line; issue 13): names are one line of printable text.
        if self.name and not self.name.isprintable():
            raise ValidationError(
                {"name": "Use one line of printable characters (no line breaks or tabs)."}
            )

    @property
    def is_classified(self) -> bool:
        return self.risk_tier is not None


class MLModel(models.Model):
    """A machine-learning model that serves one use case; it has versions."""

    use_case = models.ForeignKey(UseCase, on_delete=models.PROTECT, related_name="ml_models")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["use_case__name", "name"]
        verbose_name = "model"
        constraints = [
            models.UniqueConstraint(fields=["use_case", "name"], name="mlmodel_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    """One trained artifact of a model, identified by its label and SHA-256."""

    model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="versions")
    version_label = models.CharField(max_length=50)
    artifact_uri = models.CharField(max_length=500)
    artifact_sha256 = models.CharField(
        "artifact SHA-256", max_length=64, validators=[sha256_validator]
    )
    training_dataset = models.ForeignKey(
        Dataset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trained_versions",
    )
    training_data_ref = models.CharField(
        "training-data reference",
        max_length=500,
        blank=True,
        help_text="Snapshot, query or path that identifies the exact training data.",
    )
    framework = models.CharField(max_length=100)
    metrics = models.JSONField(default=dict, blank=True)
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="authored_versions")
    # Legacy (before issue 12's signed validations): a person named at registration as
    # the validator, with no record and no signature. Kept so that those named stay
    # excluded from approving the version's promotions; never set any more, and never
    # shown as the version's validator (that is its signed ``reviews.Validation``).
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="validated_versions",
        verbose_name="named validator (legacy)",
        help_text="Legacy, read-only: a person named at registration before validations "
        "were recorded and signed. Not a validation; still excluded from approving the "
        "version's promotions (segregation of duties).",
    )
    environment = models.CharField(
        max_length=10, choices=Environment.choices, default=Environment.DEV, editable=False
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "version_label"], name="modelversion_unique_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.version_label}"


class ArtifactLink(AppendOnlyModel):
    """A governance lead's decision that one artifact (by SHA-256) may also be
    registered under this model, although another model already carries it (issue 12,
    item 7). Without one, a second model's registration of the same SHA-256 is refused,
    so another team can never make a SHA-only gate call ambiguous. Append-only."""

    artifact_sha256 = models.CharField(
        "artifact SHA-256", max_length=64, validators=[sha256_validator]
    )
    model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="artifact_links")
    reason = models.CharField(max_length=1000)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["-linked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["artifact_sha256", "model"], name="artifactlink_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artifact_sha256[:12]}… shared with {self.model}"
