"""Production monitoring of a model version (issue #6): input drift, prediction drift and
performance per time window, with alerts.

Scored data is stored once, as ``ScoredDataset`` files (issue #5): the reference dataset
is one of the version's scored datasets; each production batch and each file of
ground-truth outcomes is a ``ScoredDataset`` too, linked here by a ``MonitoringBatch``
that says what it is for and what time it covers. Windows, alerts and their history
are rows of their own.
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyModel


class Cadence(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class MonitoringConfig(models.Model):
    """How one model version is monitored: its reference data, which columns are
    features (and of which kind), which hold the prediction, score, time and id, the
    sensitive attributes, the window cadence and the thresholds, each with its source."""

    model_version = models.OneToOneField(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="monitoring_config"
    )
    reference = models.ForeignKey(
        "fairness.ScoredDataset", on_delete=models.PROTECT, related_name="monitoring_configs"
    )
    numeric_features = models.JSONField(default=list, blank=True)
    categorical_features = models.JSONField(default=list, blank=True)
    prediction_column = models.CharField(max_length=200, blank=True)
    score_column = models.CharField(max_length=200, blank=True)
    outcome_column = models.CharField(
        max_length=200, blank=True, help_text="Ground truth in the reference and outcome files."
    )
    timestamp_column = models.CharField(max_length=200)
    id_column = models.CharField(max_length=200, blank=True)
    sensitive_columns = models.JSONField(default=list, blank=True)
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    cadence_source = models.TextField(blank=True)
    thresholds = models.JSONField(
        default=dict, help_text="DriftThresholds.to_dict() plus performance floors."
    )
    thresholds_source = models.TextField(blank=True)
    last_run = models.JSONField(
        default=dict, blank=True, help_text="What the last computation did, and its problems."
    )
    last_computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_monitoringconfig"  # moved from reviews with its table
        ordering = ["-created_at", "-id"]
        verbose_name = "monitoring configuration"

    def __str__(self) -> str:
        return f"Monitoring of {self.model_version}"

    @property
    def features(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    @property
    def drift_prediction_column(self) -> str:
        """The column whose drift is the prediction drift: the score when there is one."""
        return self.score_column or self.prediction_column


class ReferenceProfile(models.Model):
    """The drift profile of a reference dataset for given columns and kinds (built once
    by a worker, reused by every window), and the reference's own performance when it
    has outcomes. The row holds the headline figures a page shows (``summary``); each
    column's distinct values and counts are a ``ReferenceProfileFeature``, read only by
    what needs them (the window computation, one feature's chart edges)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(
        "fairness.ScoredDataset", on_delete=models.PROTECT, related_name="reference_profiles"
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the options.")
    options = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(
        null=True,
        blank=True,
        help_text="Schema version, rows, bins, problems, and per feature its kind, "
        "non-missing and missing counts, distinct values and whether they were pooled.",
    )
    performance = models.JSONField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why it could not be built, for people.")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reviews_referenceprofile"  # moved from reviews with its table
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "fingerprint"], name="reference_profile_once_per_options"
            ),
        ]

    def __str__(self) -> str:
        return f"Reference profile #{self.pk} of dataset #{self.dataset_id}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.BUILDING)


class ReferenceProfileFeature(models.Model):
    """One column of a reference profile: for a numeric column its quantile bins (edges
    and reference proportions, small) and its sorted distinct values with their counts
    (NumPy arrays, ``core.drift.array_bytes``); for a categorical one its categories and
    counts."""

    class Kind(models.TextChoices):
        NUMERIC = "numeric", "Numeric"
        CATEGORICAL = "categorical", "Categorical"

    profile = models.ForeignKey(ReferenceProfile, on_delete=models.CASCADE, related_name="parts")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    missing = models.BigIntegerField(default=0)
    bins = models.PositiveIntegerField(default=0)
    approximate = models.BooleanField(default=False)
    edges = models.JSONField(default=list, blank=True)
    proportions = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    values = models.BinaryField(null=True, blank=True, help_text="float64 .npy (numeric).")
    counts = models.BinaryField(help_text="int64 .npy, one count per value or category.")

    class Meta:
        ordering = ["profile", "position"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "name"], name="reference_feature_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of reference profile #{self.profile_id}"


class MonitoringBatch(models.Model):
    """A stored file of production rows (scored, with timestamps) or of outcomes joined
    later by prediction id, and what was found when it was received."""

    class Kind(models.TextChoices):
        PRODUCTION = "production", "Production batch"
        OUTCOMES = "outcomes", "Outcomes"

    config = models.ForeignKey(MonitoringConfig, on_delete=models.PROTECT, related_name="batches")
    dataset = models.OneToOneField(
        "fairness.ScoredDataset", on_delete=models.PROTECT, related_name="monitoring_batch"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    time_start = models.DateTimeField(null=True, blank=True)
    time_end = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    rejected_rows = models.BigIntegerField(default=0)
    matched_rows = models.BigIntegerField(
        null=True, blank=True, help_text="Outcomes only: rows whose prediction id is known."
    )
    problems = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_monitoringbatch"  # moved from reviews with its table
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "monitoring batches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.rows:,} rows)"


class MonitoringWindow(models.Model):
    """The drift and performance results of one time window of a configuration.
    Recomputing a window rewrites this row (unique per config, start and cadence)."""

    class Status(models.TextChoices):
        OK = "ok", "Computed"
        EMPTY = "empty", "No rows"
        FAILED = "failed", "Failed"

    config = models.ForeignKey(MonitoringConfig, on_delete=models.CASCADE, related_name="windows")
    start = models.DateTimeField()
    end = models.DateTimeField()
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.TextField(blank=True)
    rows = models.BigIntegerField(default=0)
    rows_with_outcome = models.BigIntegerField(default=0)
    drifted = models.JSONField(default=list, blank=True, help_text="Features that drifted.")
    results = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_monitoringwindow"  # moved from reviews with its table
        ordering = ["config", "cadence", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["config", "start", "cadence"], name="monitoring_window_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_cadence_display()} window {self.start:%Y-%m-%d} ({self.status})"


class DriftAlert(models.Model):
    """A breach of a threshold: one per (configuration, feature, kind) while it is open
    or acknowledged; later breaches of the same feature update it."""

    class Kind(models.TextChoices):
        INPUT = "input", "Input drift"
        PREDICTION = "prediction", "Prediction drift"
        PERFORMANCE = "performance", "Performance"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    config = models.ForeignKey(MonitoringConfig, on_delete=models.PROTECT, related_name="alerts")
    window = models.ForeignKey(
        MonitoringWindow, on_delete=models.PROTECT, related_name="alerts", help_text="First breach."
    )
    last_window = models.ForeignKey(
        MonitoringWindow, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    feature = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    message = models.TextField()
    detail = models.JSONField(default=dict, blank=True)
    breaches = models.PositiveIntegerField(default=1, help_text="Windows in breach so far.")
    finding = models.ForeignKey(
        "reviews.Finding", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_driftalert"  # moved from reviews with its table
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["config", "feature", "kind"],
                condition=models.Q(status__in=["open", "acknowledged"]),
                name="drift_alert_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert on {self.feature} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.RESOLVED


class DriftAlertEvent(AppendOnlyModel):
    """One step of an alert's history: opened, breached again, acknowledged, resolved."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        BREACHED = "breached", "Breached again"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    alert = models.ForeignKey(DriftAlert, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=12, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    window = models.ForeignKey(
        MonitoringWindow, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "reviews_driftalertevent"  # moved from reviews with its table
        ordering = ["alert", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} alert #{self.alert_id} at {self.at:%Y-%m-%d %H:%M}"
