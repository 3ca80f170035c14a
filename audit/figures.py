"""Portfolio figures kept until the governance records change (issue 16/18: counts over
10,000 use cases on every view of the home page and My work).

Every governed write records an audit event inside its own transaction (the capture in
``audit.registry``; a bulk write records its own ``audit_record``), so the newest event
of the chain, its position and its hash, names the state of the records. A figure
computed from that state is kept in the cache under its name, the day (figures that
say "overdue" move at midnight) and that head, and computed again as soon as anything
is audited. Nothing is ever served for a state that has changed, however short the
time; the timeout only bounds memory.

Only for figures read from audited records: a figure over rows written without an
audit event (the outbox, job markers) must not use it. Data migrations write without
events: the newest migration applied is part of the head, so a process running while
``migrate`` runs computes its figures again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.core.cache import cache
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Subquery
from django.utils import timezone

from audit.models import AuditEvent

TIMEOUT = 15 * 60
_MISSING = object()


def audit_head() -> str:
    """The position and hash of the newest audit event, and the newest migration
    applied (a data migration writes rows without audit events): one query, a lookup
    of each table's unique index."""
    schema = Subquery(MigrationRecorder.Migration.objects.order_by("-id").values("id")[:1])
    head = (
        AuditEvent.objects.order_by("-seq")
        .annotate(schema=schema)
        .values_list("seq", "hash", "schema")
        .first()
    )
    if head is None:
        migrated = MigrationRecorder.Migration.objects.order_by("-id").values("id").first()
        return f"0-{migrated['id'] if migrated else 0}"
    return "-".join(map(str, head))


def figure_while_unchanged[T](
    name: str, compute: Callable[[date], T], *, day: date | None = None, head: str = ""
) -> T:
    """``compute(today)``'s value, from the cache when it was computed for today and
    the same audit head, otherwise computed now and kept. The day is read once, for the
    key and the computation alike. ``day``: the caller's day; another day than today is
    computed and not kept. ``name`` must say everything the value depends on besides
    the records and the day (the user, the filters). ``head``: the audit head when the
    caller already read it (several figures of one page)."""
    today = timezone.localdate()
    if day is not None and day != today:
        return compute(day)
    key = f"figure:{name}:{today.isoformat()}:{head or audit_head()}"
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute(today)
        cache.set(key, value, TIMEOUT)
    return value
