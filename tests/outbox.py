"""What application code queued: the task outbox's rows (notifications.JobMarker),
written in the requesting transaction (so visible before commit, and gone with a
rollback) and published after commit."""

from __future__ import annotations

from notifications.models import JobMarker


def queued(task) -> list[dict]:
    """The arguments of the pending jobs of ``task`` (a task or its wire name), oldest
    first."""
    name = task if isinstance(task, str) else task.name
    rows = JobMarker.objects.filter(task=name, done_at=None, failed_at=None).order_by("pk")
    return [row.kwargs for row in rows]


def published(task) -> list[dict]:
    """Those of them already published (after commit)."""
    name = task if isinstance(task, str) else task.name
    rows = JobMarker.objects.filter(task=name, done_at=None, sent_at__isnull=False)
    return [row.kwargs for row in rows.order_by("pk")]
