"""The query planner's statistics on the embedded database (issue 16/18).

SQLite keeps no statistics unless told to: without them its planner guessed wrong on
the portfolio's pages at 10,000 use cases (the periodic reviews' intervals read every
audit obligation through the consideration's index instead of the ten use cases'
rows; the versions' approvals went through the status index), which made My work's and
the home page's first view after a write about a fifth slower. ``ANALYZE`` after every
migration and once a day (beat) keeps them current; it reads each index once (about
3 s at 10,000 use cases, a few milliseconds for the demo).

PostgreSQL's autovacuum keeps its own statistics (and the application role owns no
table, so it may not ANALYZE them): nothing to do there.
"""

from __future__ import annotations

import logging
import time

from django.db import connections

logger = logging.getLogger(__name__)


def database_statistics_refresh(using: str = "default") -> dict:
    """ANALYZE the SQLite database ``using``; on other engines report that the
    database keeps its own statistics."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return {"vendor": connection.vendor, "analyzed": False}
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("PRAGMA optimize")
    took = time.monotonic() - started
    logger.info("database statistics refreshed in %.1f s", took)
    return {"vendor": "sqlite", "analyzed": True, "seconds": round(took, 3)}
