"""Writes of the audit trail: append one event to the hash chain.

Who did it comes, in this order, from the ``actor`` argument, the innermost
``audit_context(actor=...)``, or the user of the request being served (the middleware
keeps the request; DRF sets ``request.user`` after token authentication, so API calls
resolve too). Without a user the actor is the system: ``system:<task name>`` inside a
Celery task, ``system:<command>`` inside ``manage.py <command>``.

Usage from other apps::

    from audit.services import audit_context, audit_record

    audit_record(action="promotion.approved", obj=request, actor=user, reason=note,
                 changes={"status": ["pending", "approved"]})

    with audit_context(reason="Rule retired after the 2026 review"):
        rule.save()  # the generic capture records the reason with the change
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import AuditEvent
from core import audit_chain

# Any constant will do as long as nothing else in the database takes the same
# advisory lock: crc32("governance.audit_trail").
ADVISORY_LOCK_KEY = 0x2F1B_57A3

_UNSET = object()


@dataclass(frozen=True)
class AuditScope:
    """What the audit trail knows about the current unit of work."""

    request: Any = None
    actor: Any = None
    reason: str = ""
    channel: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)


_NO_SCOPE = AuditScope()  # frozen, so sharing it as the default is safe
_scope: contextvars.ContextVar[AuditScope] = contextvars.ContextVar(
    "governance_audit_scope",
    default=_NO_SCOPE,  # noqa: B039
)


@contextlib.contextmanager
def audit_context(
    *, actor: Any = _UNSET, reason: Any = _UNSET, channel: Any = _UNSET, **context: Any
) -> Iterator[AuditScope]:
    """Within the block, events record this actor, reason, channel and extra context
    unless ``audit_record`` is given its own. Nested blocks inherit what they do not
    set."""
    outer = _scope.get()
    scope = replace(
        outer,
        actor=outer.actor if actor is _UNSET else actor,
        reason=outer.reason if reason is _UNSET else (reason or ""),
        channel=outer.channel if channel is _UNSET else channel,
        context={**outer.context, **context},
    )
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def audit_request(request) -> Iterator[AuditScope]:
    """The scope of one HTTP request (used by ``audit.middleware``)."""
    path = request.path
    if path.startswith("/api/"):
        channel = "api"
    elif path.startswith("/admin/"):
        channel = "admin"
    else:
        channel = "page"
    token = _scope.set(AuditScope(request=request, channel=channel))
    try:
        yield _scope.get()
    finally:
        _scope.reset(token)


def _request_user(request):
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def _system_name() -> tuple[str, dict]:
    """The system actor's name and context outside a request: a Celery task, a
    management command, or the program that runs."""
    try:
        from celery import current_task

        task = current_task._get_current_object() if current_task else None
    except Exception:  # noqa: BLE001 - no Celery app loaded
        task = None
    if task is not None and getattr(task, "name", None):
        task_id = getattr(getattr(task, "request", None), "id", None)
        return f"system:{task.name}", {"channel": "task", "task": task.name, "task_id": task_id}
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program == "manage.py" and len(sys.argv) > 1:
        return f"system:{sys.argv[1]}", {"channel": "command", "command": sys.argv[1]}
    return f"system:{program}", {"channel": "command", "command": program}


def _who(actor: Any) -> tuple[Any, str, dict]:
    """(user or None, label, context) for the event being recorded."""
    scope = _scope.get()
    context: dict[str, Any] = {}
    if scope.request is not None:
        context = {
            "channel": scope.channel,
            "method": scope.request.method,
            "path": scope.request.path[:300],
        }
    elif scope.channel:
        context = {"channel": scope.channel}
    user = actor if actor is not None else scope.actor
    if user is None and scope.request is not None:
        user = _request_user(scope.request)
    if user is not None:
        return user, user.get_username(), {**context, **scope.context}
    if scope.request is not None:
        return None, "anonymous", {**context, **scope.context}
    label, system_context = _system_name()
    return None, label, {**system_context, **context, **scope.context}


def _object_identity(obj) -> tuple[str, str, str]:
    meta = obj._meta
    return meta.label_lower, "" if obj.pk is None else str(obj.pk), _safe_repr(obj)


def _safe_repr(obj) -> str:
    try:
        return str(obj)[:300]
    except Exception:  # noqa: BLE001 - a broken __str__ must not stop the audit
        return f"{obj._meta.label_lower} #{obj.pk}"


def audit_record(
    *,
    action: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    actor: Any = None,
    context: Mapping[str, Any] | None = None,
    parent: Any = None,
    parent_type: str = "",
    parent_id: Any = "",
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    ``obj`` (a model instance) gives the object's type, id and name; or pass
    ``object_type`` ("app_label.model"), ``object_id`` and ``object_repr``.
    ``changes`` is {field: [old, new]}; values are stored as JSON (dates as UTC ISO
    strings, decimals as strings). ``reason`` defaults to the innermost
    ``audit_context``'s. ``parent`` (or ``parent_type`` / ``parent_id``) names the
    object the event also belongs to (a use case for its RACI cells), so that it shows
    in that object's history.

    Runs in a transaction of its own or joins the caller's: if the caller rolls back,
    so does the event. Concurrent writers are serialised (a PostgreSQL advisory lock
    held to the end of the transaction; SQLite allows one writer at a time).
    """
    if obj is not None:
        found_type, found_id, found_repr = _object_identity(obj)
        object_type = object_type or found_type
        object_id = found_id if object_id is None else object_id
        object_repr = found_repr if object_repr is None else object_repr
    if not object_type:
        raise ValueError("audit_record needs obj or object_type.")
    if parent is not None:
        parent_type, parent_id = parent._meta.label_lower, parent.pk
    user, label, who_context = _who(actor)
    scope_reason = _scope.get().reason
    fields = {
        "occurred_at": timezone.now(),
        "actor_id": user.pk if user is not None else None,
        "actor_label": label[:200],
        "action": action[:64],
        "object_type": object_type[:100],
        "object_id": "" if object_id is None else str(object_id)[:64],
        "object_repr": (object_repr or "")[:300],
        "parent_type": (parent_type or "")[:100],
        "parent_id": "" if parent_id in (None, "") else str(parent_id)[:64],
        "changes": audit_chain.jsonable(dict(changes or {})),
        "reason": reason or scope_reason or "",
        "context": audit_chain.jsonable({**who_context, **(context or {})}),
    }
    # No savepoint: an event that cannot be written fails the caller's whole transaction
    # (a write without its event must not commit), and two round trips per event saved.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, audit_chain.GENESIS)
        event = AuditEvent(seq=seq, prev_hash=prev_hash, **fields)
        # Hash what the database will give back: microsecond UTC times, JSON data.
        event.hash = audit_chain.event_hash(prev_hash, event.payload())
        event.save(force_insert=True)
    return event


def audit_record_many(
    *, events: list[Mapping[str, Any]], actor: Any = None, reason: str = ""
) -> int:
    """Append many events in one go, chained exactly as ``audit_record`` chains them
    (for loaders that write rows in bulk, which send no signal: ``manage.py seed_scale``).

    Each event is a mapping of ``action``, ``object_type``, ``object_id``,
    ``object_repr`` and optionally ``changes``, ``parent_type``, ``parent_id``,
    ``occurred_at``; the actor and the reason apply to all. Inserted in batches under
    the chain's lock inside one transaction. Returns how many were written.
    """
    if not events:
        return 0
    user, label, who_context = _who(actor)
    context = audit_chain.jsonable(who_context)
    reason = reason or _scope.get().reason or ""
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0], last[1]) if last else (0, audit_chain.GENESIS)
        now = timezone.now()
        rows = []
        for spec in events:
            seq += 1
            event = AuditEvent(
                seq=seq,
                prev_hash=prev_hash,
                occurred_at=spec.get("occurred_at") or now,
                actor_id=user.pk if user is not None else None,
                actor_label=label[:200],
                action=spec["action"][:64],
                object_type=spec["object_type"][:100],
                object_id=str(spec["object_id"])[:64],
                object_repr=(spec.get("object_repr") or "")[:300],
                parent_type=(spec.get("parent_type") or "")[:100],
                parent_id=str(spec.get("parent_id") or "")[:64],
                changes=audit_chain.jsonable(dict(spec.get("changes") or {})),
                reason=reason,
                context=context,
            )
            event.hash = audit_chain.event_hash(prev_hash, event.payload())
            prev_hash = event.hash
            rows.append(event)
        # AuditEvent's own manager refuses bulk_create (one at a time by audit_record);
        # this is the one other writer, and it chains the rows the same way.
        models.QuerySet(AuditEvent).bulk_create(rows, batch_size=2000)
    return len(rows)
