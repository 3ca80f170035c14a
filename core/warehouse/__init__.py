"""Scored data where it lives (issue 17): a read-only query on a registered warehouse
connection instead of an uploaded file. Pure: sqlglot and numpy, no Django, no driver.

``query`` checks a query as one read-only SELECT and renders the count statements
pushed down to the engine; ``pushdown`` folds their result rows into the same
``core.fairness.GroupCounts`` the file reader gives for the same rows."""

from __future__ import annotations

from core.warehouse.pushdown import PushdownResult, counts_fingerprint, pushdown_counts
from core.warehouse.query import (
    DIALECTS,
    ENGINE_DIALECTS,
    CheckedQuery,
    QueryRefused,
    check_query,
    columns_sql,
    confusion_sql,
    histogram_sql,
)

__all__ = [
    "DIALECTS",
    "ENGINE_DIALECTS",
    "CheckedQuery",
    "PushdownResult",
    "QueryRefused",
    "check_query",
    "columns_sql",
    "confusion_sql",
    "counts_fingerprint",
    "histogram_sql",
    "pushdown_counts",
]
