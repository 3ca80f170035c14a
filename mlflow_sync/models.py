"""What the MLflow registry sync keeps: which inventory version each MLflow model
version became, each pass of the sync, and the webhook deliveries accepted."""

from django.conf import settings
from django.db import models

from inventory.models import ModelVersion, UseCase, sha256_validator


class RegistryVersionLink(models.Model):
    """One MLflow model version imported into the inventory: the inventory version it
    became and what MLflow said of it at the last sync (description, tags and source may
    change in MLflow; each change is an audited update of this row)."""

    registered_model = models.CharField(max_length=256)
    mlflow_version = models.CharField(max_length=50)
    version = models.OneToOneField(
        ModelVersion, on_delete=models.PROTECT, related_name="mlflow_link"
    )
    source = models.CharField(max_length=1000)
    run_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    artifact_digest = models.CharField(
        "artifact digest", max_length=64, validators=[sha256_validator]
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_model", "mlflow_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "mlflow_version"], name="registryversionlink_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"MLflow {self.registered_model} v{self.mlflow_version}"


class SyncRun(models.Model):
    """One pass of the sync over the registry (or one registered model of it): what
    started it, what it imported, updated or left out, and why."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "on demand"
        SCHEDULE = "schedule", "scheduled"
        WEBHOOK = "webhook", "webhook"
        COMMAND = "command", "command"

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    registered_model = models.CharField(max_length=256, blank=True, help_text="Blank: all.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # [{"model": name, "version": v, "reason": ...}]: versions left out and why.
    skipped = models.JSONField(default=list, blank=True)
    # [{"model": name, "current": use case, "named": use case, "versions": [...]}]: the
    # open use case conflicts this pass met (``UseCaseConflict``).
    conflicts = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"MLflow sync {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class UseCaseConflict(models.Model):
    """A registered model whose versions are imported into one use case while MLflow's
    use case tag (on the model or a version) now names another: an imported version
    never moves, and while the conflict is open the model's new versions are not
    imported. A governance lead resolves it: ``keep`` (new versions go on joining the
    use case the imported ones are in) or ``follow`` (new versions go to the use case
    the tag names; the imported ones stay). One row per registered model and use case
    named; once resolved, the same tag does not open it again."""

    class Resolution(models.TextChoices):
        KEEP = "keep", "keep the model in its use case"
        FOLLOW = "follow", "new versions follow the tag"

    registered_model = models.CharField(max_length=256)
    current = models.ForeignKey(
        UseCase, on_delete=models.PROTECT, related_name="+", help_text="Where its versions are."
    )
    named = models.ForeignKey(
        UseCase, on_delete=models.PROTECT, related_name="+", help_text="What MLflow's tag names."
    )
    named_ref = models.CharField("tag value", max_length=300)
    versions = models.JSONField(
        default=list, blank=True, help_text="The MLflow version(s) that opened it."
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "named"], name="usecaseconflict_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"MLflow {self.registered_model}: tagged for another use case"

    @property
    def is_open(self) -> bool:
        return not self.resolution


class WebhookDelivery(models.Model):
    """A webhook delivery MLflow signed and the product accepted; a second delivery
    with the same id is a replay and is refused."""

    delivery_id = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=100)
    registered_model = models.CharField(max_length=256, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
