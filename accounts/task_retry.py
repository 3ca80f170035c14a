"""Retry options shared by every Celery task.

A task that meets a transient database error ("database is locked" on SQLite when the
busy timeout ran out, a dropped PostgreSQL connection) is retried with an exponential,
jittered backoff instead of being lost. Tasks are idempotent (a rerun writes nothing
new), so a retry is safe. Use as ``@shared_task(name=..., **DB_RETRY)``; a task with
other transient errors of its own adds them with :func:`retry_options`.
"""

from django.db.utils import InterfaceError, OperationalError

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)

DB_RETRY = {
    "autoretry_for": TRANSIENT_DB_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
}


def retry_options(*errors: type[BaseException], **overrides) -> dict:
    """DB_RETRY, also retrying ``errors``, with ``overrides`` (e.g. a longer backoff)."""
    return {**DB_RETRY, "autoretry_for": (*TRANSIENT_DB_ERRORS, *errors), **overrides}
