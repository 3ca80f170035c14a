"""The e-mail outbox."""

from django.apps import apps
from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One e-mail in the outbox: to whom, of which kind, about what (any row:
    ``subject_type`` "app_label.model" and ``subject_id``). ``key`` is unique, one per
    (subject, recipient, kind), so queuing twice makes one row and a task that runs
    twice sends one message."""

    class Kind(models.TextChoices):
        APPROVAL_REQUESTED = "approval_requested", "Approval requested"
        REMINDER = "reminder", "Reminder"
        ESCALATION = "escalation", "Escalation"
        DECISION = "decision", "Decision"
        REVIEW_OVERDUE = "review_overdue", "Periodic review overdue"
        EXPERIMENT_ENDED = "experiment_ended", "Experiment ended"
        EXPERIMENT_ANALYSED = "experiment_analysed", "Experiment analysed"
        EXPERIMENT_ACCRUAL_SRM = (
            "experiment_accrual_srm",
            "Experiment sample-ratio mismatch while running",
        )
        DRIFT_ALERT = "drift_alert", "Monitoring alert"
        OBLIGATIONS_ASSIGNED = "obligations_assigned", "Obligations assigned"
        OBLIGATIONS_DIGEST = "obligations_digest", "Obligations: daily digest"
        OBLIGATION_OVERDUE = "obligation_overdue", "Obligation overdue"
        OBLIGATION_ESCALATED = "obligation_escalated", "Obligation overdue (escalated)"
        AUDIT_ANCHOR = "audit_anchor", "Audit trail anchor"
        FRAMEWORK_CHANGE_PROPOSED = "framework_change_proposed", "Framework change proposed"
        AUDIT_ANCHOR_FAILED = "audit_anchor_failed", "Audit trail anchor failed"
        PORTFOLIO_REPORT = "portfolio_report", "Portfolio model-risk report"
        FINDING_OVERDUE = "finding_overdue", "Finding overdue"
        FINDING_ESCALATED = "finding_escalated", "Finding overdue (escalated)"
        FINDING_REOPENED = "finding_reopened", "Finding opened again (acceptance expired)"
        ATTESTATION_REQUESTED = "attestation_requested", "Attestation requested"
        ATTESTATION_REMINDER = "attestation_reminder", "Attestation reminder"
        ATTESTATION_ESCALATED = "attestation_escalated", "Attestations overdue (escalated)"
        TRAINING_DUE = "training_due", "Training due"
        KRI_BREACH = "kri_breach", "Key risk indicator breached"
        FRAMEWORK_REVIEW_DUE = "framework_review_due", "Framework review due"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    subject_type = models.CharField(max_length=100, help_text="app_label.model")
    subject_id = models.CharField(max_length=64)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    email = models.EmailField()
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a worker sends it, so two never do."
    )
    last_error = models.TextField(blank=True)
    abandoned_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when it can never be sent (its subject is gone)."
    )

    class Meta:
        # Moved from the reviews app with its table (notifications 0001, reviews 0007).
        db_table = "reviews_notification"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="notification_subject")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.email}"

    @property
    def subject(self) -> models.Model:
        """The row this e-mail is about (loaded on each access)."""
        model = apps.get_model(self.subject_type)
        return model._default_manager.get(pk=self.subject_id)


class JobMarker(models.Model):
    """One piece of background work in the task outbox: wanted, published, under way,
    done or given up.

    ``task`` is the Celery task's wire name and ``key`` what it works on (a summary id, a
    use case id, a hash of the arguments); ``kwargs`` are the task's arguments (the latest
    wish: wanting the same work again updates the row). A request writes the row in its
    own transaction (``wanted_at``), so the wish survives a broker that is down or a lost
    message; it is published after commit (``sent_at``), or by the sweep when that
    failed. A run takes a lease with a conditional UPDATE (one run at a time per key),
    renews it while it runs, and marks the row done (``done_at``); the sweep publishes
    again the rows never published, those whose run died (lease expired) and those not
    taken long after publication, and gives up (``failed_at``) after too many runs.
    Internal state, not a governance record: not audited."""

    task = models.CharField(max_length=200)
    key = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(
        max_length=200, blank=True, help_text="Published to this queue (blank: the task's route)."
    )
    wanted_at = models.DateTimeField()
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Work scheduled for later: not published before."
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Last published.")
    sends = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "key"], name="job_marker_unique")]
        indexes = [
            models.Index(fields=["sent_at"], name="job_marker_sent"),
            models.Index(fields=["done_at", "failed_at"], name="job_marker_open"),
        ]

    def __str__(self) -> str:
        return f"{self.task}[{self.key}]"
