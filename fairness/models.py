"""Scored data attached to a model version, and the bias summaries computed from it
(issue #5).

A ``ScoredDataset`` is one stored file of scored rows (CSV or Parquet) with the column
mapping that says which column holds what. It is the one way the product stores and
reads scored data: bias summaries read it now, monitoring reads reference and
production data through the same row (``purpose``) and the same reader
(``fairness.selectors.scored_dataset_local_path``).

A ``BiasSummary`` is one computation over a dataset with given options; re-requesting
the same options finds the same row (unique on the options' fingerprint). Its result
is written once, at the end, in the same transaction that opens the findings.
``BiasPartial`` rows hold the counts of one share of a large Parquet file when the
computation is split across workers; the last share to finish merges them.

A ``WarehouseConnection`` (issue 17) is a data engine a governance lead registered; its
secret stays in the environment. A ``ScoredDataset`` of format "query" is a read-only
query on one: nothing is stored but the query, and its summaries count in the engine.
"""

from django.conf import settings
from django.db import models


class WarehouseConnection(models.Model):
    """A data engine registered by a governance lead; scored-data queries run on it.

    Only the name of the environment variable holding its secret (a DSN, a SQLAlchemy
    URL, a DuckDB folder of Parquet files) is stored, never the secret itself."""

    class Engine(models.TextChoices):
        POSTGRESQL = "postgresql", "PostgreSQL"
        DUCKDB = "duckdb", "DuckDB (Parquet files)"
        SQLALCHEMY = "sqlalchemy", "Other (SQLAlchemy URL: Trino, Snowflake, BigQuery...)"

    name = models.SlugField(max_length=60, unique=True)
    engine = models.CharField(max_length=12, choices=Engine.choices)
    dialect = models.CharField(
        max_length=20, blank=True, help_text="sqlglot dialect; PostgreSQL and DuckDB set their own."
    )
    secret_env = models.CharField(
        max_length=100, help_text="The environment variable holding the DSN or URL."
    )
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = "warehouse connection"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_engine_display()})"


class ScoredDataset(models.Model):
    """One stored file of scored rows for a model version, with its column mapping.

    An upload starts ``validating``: its bytes wait in quarantine (``scored-quarantine/``)
    while a worker reads every row; only a ``valid`` dataset (published under
    ``scored-data/``) is read by summaries, monitoring, downloads and evidence packs. A
    ``rejected`` one keeps the reason (column and row) and no file (issue 18)."""

    class Status(models.TextChoices):
        VALIDATING = "validating", "Validating"
        VALID = "valid", "Valid"
        REJECTED = "rejected", "Rejected"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PARQUET = "parquet", "Parquet"
        QUERY = "query", "Query on a warehouse connection"

    class Purpose(models.TextChoices):
        EVALUATION = "evaluation", "Evaluation (bias summary)"
        REFERENCE = "reference", "Reference (monitoring baseline)"
        PRODUCTION = "production", "Production (monitoring window)"

    model_version = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="scored_datasets"
    )
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.EVALUATION)
    description = models.TextField(blank=True)
    file = models.FileField(
        max_length=300,
        blank=True,
        help_text="Stored by content: scored-data/<sha256[:2]>/<sha256>.<ext>; none for a query.",
    )
    connection = models.ForeignKey(
        WarehouseConnection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="datasets",
        help_text="Where a query source's rows live.",
    )
    query = models.TextField(blank=True, help_text="A query source's read-only SELECT.")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10, choices=Format.choices)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    rows = models.BigIntegerField()
    columns = models.JSONField(default=list, help_text="The file's column names.")
    row_groups = models.PositiveIntegerField(null=True, blank=True, help_text="Parquet only.")
    mapping = models.JSONField(help_text="core.scored_io.ColumnMapping.to_dict().")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.VALID,
        help_text="Uploads start validating (set by the upload); only valid data is read.",
    )
    rows_done = models.BigIntegerField(default=0, help_text="Rows validated so far.")
    error = models.TextField(blank=True, help_text="Why it was rejected, worded for people.")
    error_column = models.CharField(max_length=255, blank=True)
    error_row = models.BigIntegerField(null=True, blank=True, help_text="1-based data row.")
    validated_at = models.DateTimeField(null=True, blank=True)
    summary_on_valid = models.JSONField(
        null=True,
        blank=True,
        help_text="The bias summary options asked for with the upload, requested once valid.",
    )

    class Meta:
        db_table = "reviews_scoreddataset"  # moved from reviews with its table
        ordering = ["-uploaded_at", "-id"]
        verbose_name = "scored dataset"
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "sha256"],
                condition=~models.Q(status="rejected"),
                name="scored_dataset_once_per_version",
                violation_error_message="These exact bytes are already attached to this version.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.rows:,} rows) for {self.model_version}"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID

    def unusable_reason(self) -> str:
        """Why the dataset cannot be read yet ('' once valid), worded for people."""
        if self.status == self.Status.VALIDATING:
            return (
                f"Dataset #{self.pk} ({self.original_name}) is still being validated: it can "
                "be used once every row has been checked."
            )
        if self.status == self.Status.REJECTED:
            return f"Dataset #{self.pk} ({self.original_name}) was rejected: {self.error}"
        return ""


class BiasSummary(models.Model):
    """One bias computation over a scored dataset with given options (reference group,
    minimum group size, thresholds and where they came from)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(
        ScoredDataset, on_delete=models.PROTECT, related_name="bias_summaries"
    )
    options = models.JSONField(
        help_text="Reference group, minimum group size, thresholds and their source."
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical options.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(default=0)
    parts_total = models.PositiveIntegerField(
        default=0, help_text="Shares computed by separate tasks (0: one task)."
    )
    result = models.JSONField(null=True, blank=True)
    counts = models.JSONField(
        null=True, blank=True, help_text="The merged GroupCounts.to_dict() the result came from."
    )
    error = models.TextField(blank=True, help_text="Why it failed, worded for people.")
    provenance = models.JSONField(
        null=True,
        blank=True,
        help_text="A pushed-down summary's query, connection, engine, statements, rows and "
        "result fingerprint.",
    )
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reviews_biassummary"  # moved from reviews with its table
        ordering = ["-requested_at", "-id"]
        verbose_name = "bias summary"
        verbose_name_plural = "bias summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "fingerprint"], name="bias_summary_once_per_options"
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Bias summary #{self.pk} of {self.dataset.original_name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class BiasPartial(models.Model):
    """The counts of one share (a run of Parquet row groups) of a split bias summary."""

    summary = models.ForeignKey(BiasSummary, on_delete=models.CASCADE, related_name="partials")
    index = models.PositiveIntegerField()
    row_groups = models.JSONField()
    rows_total = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    counts = models.JSONField(null=True, blank=True)
    done = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True, help_text="Who computed it.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reviews_biaspartial"  # moved from reviews with its table
        ordering = ["summary", "index"]
        constraints = [
            models.UniqueConstraint(fields=["summary", "index"], name="bias_partial_once"),
        ]

    def __str__(self) -> str:
        return f"Part {self.index} of bias summary #{self.summary_id}"
