"""Bias counts pushed down to the data's own engine: the count statements of
``core.warehouse.query`` run by a ``fetch`` the caller gives (one engine session), their
rows checked as the file reader checks rows (0/1 outcomes and predictions, scores in
[0, 1], finite non-negative weights, the cap on distinct sensitive values) and folded
into ``core.fairness.GroupCounts``: the same counts, to the last digit, as the file path
gives for the same rows (weighted sums to the engine's floating-point rounding).

``fetch(sql)`` yields lists of result rows (tuples); closing the generator early (the
exact score histogram turning out larger than the cap) must end the statement."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from core.fairness import DEFAULT_SCORE_CAP, GRID_BINS, GroupCounts
from core.scored_io import ColumnMapping, ScoredDataError
from core.scored_io.schema import _LABELS
from core.warehouse.query import CheckedQuery, confusion_sql, histogram_sql

Fetch = Callable[[str], Iterator[list[tuple]]]


@dataclass
class PushdownResult:
    """The merged counts, the statements that produced them, and the result's fingerprint."""

    counts: GroupCounts
    statements: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.counts.rows

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical (sorted) counts: equal counts, equal fingerprint,
        whichever engine or file they came from."""
        return counts_fingerprint(self.counts)


def counts_fingerprint(counts: GroupCounts) -> str:
    # the plain (schema 1) form: fingerprints stored before the packed form stay comparable
    text = json.dumps(counts.plain_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _binary(value: Any, column: str, role: str, rows: int) -> int:
    """One distinct outcome or prediction value as 0/1, by the file reader's rules."""
    where = f" ({rows:,} rows of the query's result)"
    if value is None:
        raise ScoredDataError(f"The {role} is missing{where}.", column=column)
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | float | Decimal | np.integer | np.floating):
        if value == 0 or value == 1:
            return int(value)
        raise ScoredDataError(f"The {role} {value!r} is not 0 or 1{where}.", column=column)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    label = _LABELS.get(str(value).strip().lower())
    if label is None:
        raise ScoredDataError(
            f"The {role} {str(value)[:40]!r} is not 0/1 or true/false{where}.", column=column
        )
    return label


def _check_numbers(low: Any, high: Any, count: Any, rows: int, column: str, role: str) -> None:
    where = f" ({rows:,} rows of the query's result)"
    if int(count) < rows:
        raise ScoredDataError(f"The {role} is missing{where}.", column=column)
    low, high = float(low), float(high)
    if role == "score":
        if not (low >= 0 and high <= 1):
            bad = low if not low >= 0 else high
            raise ScoredDataError(f"The score {bad!r} is outside [0, 1]{where}.", column=column)
    elif not (low >= 0 and high < math.inf):
        bad = low if not low >= 0 else high
        raise ScoredDataError(
            f"The weight {bad!r} is negative or not finite{where}.", column=column
        )


def _check_groups(counts: GroupCounts, mapping: ColumnMapping, max_groups: int) -> None:
    for name, labels in zip(mapping.sensitive, counts.labels, strict=True):
        if len(labels) > max_groups:
            raise ScoredDataError(
                f"This sensitive attribute has more than {max_groups:,} distinct values "
                f"(value {labels[max_groups][:60]!r} is number {max_groups + 1:,}). A sensitive "
                "attribute must be a category such as race or sex, not an identifier.",
                column=name,
            )


def _confusion(
    rows: Iterable[tuple], mapping: ColumnMapping, counts: GroupCounts, max_groups: int
) -> None:
    m = len(mapping.sensitive)
    prediction = mapping.prediction or mapping.score
    for row in rows:
        cells, (y_raw, p_raw, n) = [row[:m]], row[m : m + 3]
        rest = row[m + 3 :]
        n = int(n)
        y = _binary(y_raw, mapping.outcome, "outcome", n)
        p = _binary(p_raw, prediction, "prediction", n)
        slot = np.zeros((1, 4), np.int64)
        slot[0, 2 * y + p] = n
        w = w2 = None
        if mapping.weight is not None:
            wsum, w2sum, wmin, wmax, wcount = rest[:5]
            rest = rest[5:]
            _check_numbers(wmin, wmax, wcount, n, mapping.weight, "weight")
            w, w2 = np.zeros((1, 4)), np.zeros((1, 4))
            w[0, 2 * y + p], w2[0, 2 * y + p] = float(wsum), float(w2sum)
        if mapping.score is not None:
            _check_numbers(*rest[:3], n, mapping.score, "score")
        counts.add_counts(cells=cells, n=slot, w=w, w2=w2)
        _check_groups(counts, mapping, max_groups)


def _histogram(chunks: Iterator[list[tuple]], mapping, hist: GroupCounts, grid: bool) -> bool:
    """Fold histogram rows into ``hist``; False as soon as exact scores exceed the cap
    (the caller then asks for the grid)."""
    m = len(mapping.sensitive)
    values = np.arange(GRID_BINS) / (GRID_BINS - 1)
    for chunk in chunks:
        if not chunk:
            continue
        cells = [row[:m] for row in chunk]
        n = np.zeros((len(chunk), 2), np.int64)
        w = np.zeros((len(chunk), 2)) if mapping.weight is not None else None
        scores = np.zeros(len(chunk))
        for i, row in enumerate(chunk):
            score, y_raw, count = row[m : m + 3]
            y = _binary(y_raw, mapping.outcome, "outcome", int(count))
            n[i, y] = int(count)
            if w is not None:
                w[i, y] = float(row[m + 3])
            scores[i] = values[int(score)] if grid else float(score)
        hist.add_score_counts(cells=cells, scores=scores, n=n, w=w, grid=grid)
        if hist.score_grid and not grid:
            chunks.close()
            return False
    return True


def pushdown_counts(
    query: CheckedQuery,
    mapping: ColumnMapping,
    fetch: Fetch,
    *,
    max_groups: int,
    score_cap: int = DEFAULT_SCORE_CAP,
) -> PushdownResult:
    """The GroupCounts of the query's rows, counted by the engine. Raises ScoredDataError
    for rows the file reader would refuse (the column named, no row number: the engine
    returns counts, not rows); the engine's own errors come from ``fetch``."""
    weighted, scored = mapping.weight is not None, mapping.score is not None
    counts = GroupCounts(
        attributes=mapping.sensitive, weighted=weighted, scored=scored, score_cap=score_cap
    )
    result = PushdownResult(counts=counts)
    sql = confusion_sql(query, mapping)
    result.statements.append(sql)
    for chunk in fetch(sql):
        _confusion(chunk, mapping, counts, max_groups)
    if not scored:
        return result
    hist = GroupCounts(
        attributes=mapping.sensitive, weighted=weighted, scored=True, score_cap=score_cap
    )
    sql = histogram_sql(query, mapping, grid=False)
    result.statements.append(sql)
    if not _histogram(fetch(sql), mapping, hist, grid=False):
        hist = GroupCounts(
            attributes=mapping.sensitive, weighted=weighted, scored=True, score_cap=score_cap
        )
        sql = histogram_sql(query, mapping, grid=True)
        result.statements.append(sql)
        _histogram(fetch(sql), mapping, hist, grid=True)
    result.counts = counts.merge(hist)
    return result
