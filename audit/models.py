"""The tamper-evident audit trail: one row per change of a governed object or
workflow event, hash-chained in ``seq`` order (``core.audit_chain``).

Rows are written only by ``audit.services.audit_record`` and never
changed: ``save()`` refuses an existing row, ``delete()`` and the queryset's bulk
writes refuse, and triggers refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE in the
database itself (governance migration 0010, ``audit.db_guard``). Its head is anchored
outside the database (``audit.anchors``).
"""

from django.conf import settings
from django.db import models

from audit.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from core import audit_chain

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "parent_type",
    "parent_id",
    "changes",
    "reason",
    "context",
)


class AuditEventQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError(
            "Audit events are added one at a time by audit.services.audit_record."
        )


class AuditEvent(AppendOnlyModel):
    """One entry of the audit trail: who (``actor`` and a snapshot of their name), when
    (server UTC), what (``action`` on one object, ``changes`` as {field: [old, new]})
    and why (``reason``), chained to the entry before it by ``prev_hash``."""

    seq = models.PositiveBigIntegerField(
        unique=True, editable=False, help_text="Position in the chain: 1, 2, 3, ... no gaps."
    )
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Empty for the system (a task or a command).",
    )
    actor_label = models.CharField(
        max_length=200, editable=False, help_text="The actor's name when it happened."
    )
    action = models.CharField(max_length=64, db_index=True, editable=False)
    object_type = models.CharField(max_length=100, editable=False, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    object_repr = models.CharField(max_length=300, blank=True, editable=False)
    parent_type = models.CharField(
        max_length=100, blank=True, editable=False, help_text="The object it belongs to, if any."
    )
    parent_id = models.CharField(max_length=64, blank=True, editable=False)
    changes = models.JSONField(default=dict, blank=True, editable=False)
    reason = models.TextField(blank=True, editable=False)
    context = models.JSONField(default=dict, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        # Moved from the governance app with its table (migrations governance 0011,
        # audit 0001): the rows, their hashes and the PostgreSQL triggers stay as they are.
        db_table = "governance_auditevent"
        ordering = ["-seq"]
        verbose_name = "audit event"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
            models.Index(fields=["parent_type", "parent_id"], name="auditevent_parent"),
            models.Index(fields=["actor_label"], name="auditevent_actor_label"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}"

    def payload(self) -> dict:
        """The hashed fields of this row (``audit_chain.event_hash``)."""
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    @property
    def change_rows(self) -> list[dict]:
        """The changes as display rows: field, old and new as text."""
        rows = []
        for name, value in (self.changes or {}).items():
            if isinstance(value, list | tuple) and len(value) == 2:
                old, new = value
            else:
                old, new = None, value
            rows.append({"field": name, "old": display_value(old), "new": display_value(new)})
        return rows

    @property
    def channel(self) -> str:
        return (self.context or {}).get("channel", "")


def display_value(value) -> str:
    """A stored change value as text: a related object as its name (and id), a list
    joined by commas, nothing as an em dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "id" in value and "repr" in value:
        return f"{value['repr']} (#{value['id']})"
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return audit_chain.canonical_json(value)
    return str(value)
