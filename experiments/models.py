"""Pre-registered validation experiments of a challenger model version (issue #7).

An ``Experiment`` compares a challenger version with the champion (the version it would
replace) on one quantitative primary metric, under a protocol fixed before any data is
seen (the book's Table 7-1). Its life: draft (the protocol may be edited) -> running
(the protocol was signed with the password re-entered and is locked) -> ended (the
planned sample size or end date was reached) -> analysed (data-quality checks, then the
pre-registered test); or abandoned, with a reason, from draft or running.

The lock is enforced here too, not only in the services: once a row left the draft
status, ``save()`` and ``QuerySet.update()`` refuse to change a protocol field.

``ExperimentOutcome`` rows are the observed units, one row per unit and upload (a unit
sent twice is two rows: duplicates are counted by the data-quality check, never merged
silently). ``ExperimentBatch`` is one upload (CSV file or API batch), written whole or
not at all.
"""

from django.conf import settings
from django.db import models


class ProtocolLockedError(Exception):
    """Something tried to change the protocol of an experiment that has started."""


# Everything the signature on the protocol binds to; frozen once the experiment runs.
LOCKED_FIELDS = (
    "use_case_id",
    "name",
    "hypothesis",
    "champion_id",
    "challenger_id",
    "design",
    "primary_metric",
    "metric_kind",
    "population",
    "splitting",
    "entity_key_name",
    "protocol",
    "sample_size",
    "planned_units",
    "planned_days",
    "salt",
    "assignment",
    "duration_days",
)


class ExperimentQuerySet(models.QuerySet):
    def update(self, **kwargs):
        names = set(LOCKED_FIELDS) | {f.removesuffix("_id") for f in LOCKED_FIELDS}
        locked = set(kwargs) & names
        if locked and self.exclude(status=Experiment.Status.DRAFT).exists():
            raise ProtocolLockedError(
                f"The protocol of a started experiment cannot change ({', '.join(sorted(locked))})."
            )
        return super().update(**kwargs)


class Experiment(models.Model):
    """One pre-registered comparison of a challenger version with the champion."""

    class Design(models.TextChoices):
        AB = "ab", "A/B test (unpaired: the challenger serves a share of traffic)"
        SHADOW = "shadow", "Shadow scoring (paired: both models score the same requests)"

    class MetricKind(models.TextChoices):
        PROPORTION = "proportion", "Proportion (e.g. click-through, correct decisions)"
        MEAN = "mean", "Mean (e.g. revenue per customer, absolute error)"

    class Splitting(models.TextChoices):
        RANDOM = "random", "Random share of requests"
        HASH = "hash", "Hash of an entity key (all requests of one entity go to one model)"

    class Assignment(models.TextChoices):
        PRODUCT = "product", "By the product (deterministic hash of the key and the salt)"
        EXTERNAL = "external", "By an outside randomiser (the outcome file carries the arm)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended, awaiting analysis"
        ANALYSED = "analysed", "Analysed"
        ABANDONED = "abandoned", "Abandoned"

    use_case = models.ForeignKey(
        "inventory.UseCase", on_delete=models.PROTECT, related_name="experiments"
    )
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    champion = models.ForeignKey(
        "inventory.ModelVersion", on_delete=models.PROTECT, related_name="experiments_as_champion"
    )
    challenger = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        related_name="experiments_as_challenger",
    )
    design = models.CharField(max_length=10, choices=Design.choices)
    primary_metric = models.CharField(max_length=200, help_text="What is measured per unit.")
    metric_kind = models.CharField(max_length=12, choices=MetricKind.choices)
    population = models.TextField(help_text="Who or what is eligible for the experiment.")
    splitting = models.CharField(max_length=10, choices=Splitting.choices, default=Splitting.HASH)
    entity_key_name = models.CharField(
        max_length=100, blank=True, help_text="What the assignment key is, e.g. customer_id."
    )
    protocol = models.JSONField(help_text="core.experiment_stats.Protocol.to_dict().")
    sample_size = models.JSONField(help_text="core.experiment_stats.SampleSize.to_dict().")
    planned_units = models.PositiveIntegerField(help_text="Units (A/B) or pairs (shadow) in all.")
    planned_days = models.PositiveIntegerField(null=True, blank=True)
    salt = models.CharField(max_length=64, help_text="Seeds the deterministic assignment.")
    assignment = models.CharField(
        max_length=10,
        choices=Assignment.choices,
        default=Assignment.PRODUCT,
        help_text="Who assigns units to arms, declared before the lock (issue 14).",
    )
    duration_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The fixed duration from the start to the planned end (whole weeks by "
        "default); the test ends at the later of this end and the planned sample size.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="experiments"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    protocol_sha256 = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    abandon_reason = models.TextField(blank=True)
    looks = models.JSONField(
        default=list, blank=True, help_text="Interim looks taken (sequential designs)."
    )
    result = models.JSONField(null=True, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    evidence_obligation = models.ForeignKey(
        "governance.Obligation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    evidence_sha256 = models.CharField(max_length=64, blank=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        db_table = "reviews_experiment"  # moved from reviews with its table
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(champion=models.F("challenger")),
                name="experiment_arms_differ",
                violation_error_message="The champion and the challenger must be different.",
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Experiment #{self.pk} {self.name}"

    def save(self, *args, **kwargs):
        """Refuses to change a protocol field of a row whose stored status is not draft
        (read from the database, so a stale instance cannot slip through)."""
        fields = kwargs.get("update_fields")
        names = set(LOCKED_FIELDS) | {f.removesuffix("_id") for f in LOCKED_FIELDS}
        if not self._state.adding and self.pk and (fields is None or set(fields) & names):
            stored = type(self).objects.filter(pk=self.pk).values("status", *LOCKED_FIELDS).first()
            if stored and stored["status"] != self.Status.DRAFT:
                changed = [f for f in LOCKED_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    raise ProtocolLockedError(
                        "The protocol of a started experiment cannot change "
                        f"({', '.join(changed)})."
                    )
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_paired(self) -> bool:
        return self.design == self.Design.SHADOW

    @property
    def assigned_by_product(self) -> bool:
        return not self.is_paired and self.assignment == self.Assignment.PRODUCT

    @property
    def verdict(self) -> str:
        """The analysed result's one-line verdict ('' before the analysis)."""
        if self.status != self.Status.ANALYSED or not self.result:
            return ""
        return str(self.result.get("verdict", ""))


class ExperimentBatch(models.Model):
    """One upload of outcomes (a CSV or Parquet file, or an API batch), stored whole or not
    at all."""

    class Source(models.TextChoices):
        CSV = "csv", "CSV upload"
        PARQUET = "parquet", "Parquet upload"
        API = "api", "API batch"

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="batches")
    source = models.CharField(max_length=10, choices=Source.choices)
    name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        db_table = "reviews_experimentbatch"  # moved from reviews with its table
        ordering = ["-uploaded_at", "-id"]
        verbose_name_plural = "experiment batches"

    def __str__(self) -> str:
        return f"Batch #{self.pk} of experiment #{self.experiment_id} ({self.rows} rows)"


class ExperimentOutcome(models.Model):
    """One observed unit of an experiment: its key and arm (A/B), its primary outcome
    (A/B) or both models' outcomes on it (shadow), and its guardrail values. An empty
    outcome means the unit was assigned but nothing was observed (a missing unit)."""

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="outcomes")
    batch = models.ForeignKey(ExperimentBatch, on_delete=models.PROTECT, related_name="outcomes")
    entity_key = models.CharField(max_length=200)
    arm = models.CharField(max_length=10, blank=True, help_text="champion or challenger (A/B).")
    outcome = models.FloatField(null=True, blank=True)
    champion_outcome = models.FloatField(null=True, blank=True)
    challenger_outcome = models.FloatField(null=True, blank=True)
    guardrails = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "reviews_experimentoutcome"  # moved from reviews with its table
        ordering = ["id"]
        indexes = [models.Index(fields=["experiment", "entity_key"])]

    def __str__(self) -> str:
        return f"{self.entity_key} ({self.arm or 'paired'})"
