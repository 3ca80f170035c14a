"""One lock order for every write transaction on PostgreSQL: the audit trail's lock first.

Appending to the hash chain takes a transaction-scoped advisory lock (``audit.services``),
held to commit. A transaction that had first locked a row (``SELECT ... FOR UPDATE``, an
``UPDATE``, a ``DELETE``) and then appended to the chain could wait for that lock while
its holder waited for the row: a deadlock, which PostgreSQL breaks after a second by
aborting one of the two (a 503 for the person behind it). The load test on the
production topology met it 53 times in five minutes: writers that lock a use case
(``SELECT ... FOR UPDATE``) before recording their event met writers that record an event
before locking the same use case.

So every write statement inside a transaction first takes the chain's lock, once per
transaction: all writers take their locks in one order and no cycle can form. Writers are
serialised from their first write to commit, as they already were from their first audit
event, and nearly every write transaction records one. Reads never take it. SQLite needs
none of this: it has one writer at a time.

The session table is exempt: a session row is written only by its own browser's
requests (the middleware's last-activity stamp, once a minute; log-in and log-out,
which write the session before their audit event), never by a transaction that already
holds the chain, so no cycle can pass through it. Without the exemption a page view that
refreshed its session queued behind every governed writer (the load test).
"""

from __future__ import annotations

import re

from audit.services import ADVISORY_LOCK_KEY

_LOCKING_SUFFIXES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
# INSERT INTO "t" / UPDATE "t" / DELETE FROM "t": the table written.
_TARGET = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"([^"]+)"', re.IGNORECASE)
EXEMPT_TABLES = frozenset({"django_session"})


def _writes(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    if head in ("INSERT", "UPDATE", "DELETE"):
        target = _TARGET.match(sql)
        return not (target and target.group(1) in EXEMPT_TABLES)
    return head == "SELECT" and any(s in sql for s in _LOCKING_SUFFIXES)


def chain_lock_first(execute, sql, params, many, context):
    """Execute wrapper: the audit chain's lock before a transaction's first write."""
    connection = context["connection"]
    if connection.in_atomic_block and not connection.chain_lock_held and _writes(sql):
        context["cursor"].execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        connection.chain_lock_held = True
    return execute(sql, params, many, context)


def _forgetting(connection, method):
    """``method`` of ``connection``, first forgetting that the lock is held."""

    def forget_then(*args, **kwargs):
        connection.chain_lock_held = False
        return method(*args, **kwargs)

    return forget_then


def install(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: wrap PostgreSQL connections, once per wrapper.

    The end of a transaction (commit, rollback), a rolled-back savepoint (the lock goes
    with it if it was taken there) and a closed connection forget the lock; forgetting
    when it is still held costs one more (re-entrant) lock call, never a missing one.
    """
    connection.chain_lock_held = False
    if connection.vendor != "postgresql" or chain_lock_first in connection.execute_wrappers:
        return
    for name in ("_commit", "_rollback", "_savepoint_rollback", "_close"):
        setattr(connection, name, _forgetting(connection, getattr(connection, name)))
    connection.execute_wrappers.append(chain_lock_first)
