"""Folding a file's batches into ``core.fairness.GroupCounts``: the whole file
(``summarise_file``), one worker's share of Parquet row groups
(``partial_for_row_groups``), and the split of row groups into shares
(``row_group_plan``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.fairness import DEFAULT_SCORE_CAP, GroupCounts
from core.scored_io.inspection import inspect_file
from core.scored_io.reading import iter_batches
from core.scored_io.schema import ColumnMapping, ScoredDataError

_END = object()


def _read_ahead[T](items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, the next one read on a thread while the caller counts the
    current one: pyarrow's decoding and NumPy's counting release the GIL, so reading and
    counting overlap (one batch ahead: memory stays flat). An error of the reading is
    raised when its batch is reached, as without the thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scored-read") as pool:
        pending = pool.submit(next, items, _END)
        try:
            while (item := pending.result()) is not _END:
                pending = pool.submit(next, items, _END)
                yield item
        finally:
            # the generator may not be closed while the thread is still inside it
            if not pending.cancel():
                pending.exception()
            close = getattr(items, "close", None)
            if close is not None:
                close()


def _counts_for(mapping: ColumnMapping, score_cap: int) -> GroupCounts:
    return GroupCounts(
        attributes=mapping.sensitive,
        weighted=mapping.weight is not None,
        scored=mapping.score is not None,
        score_cap=score_cap,
    )


def summarise_file(
    path: str | os.PathLike,
    mapping: ColumnMapping,
    *,
    score_cap: int = DEFAULT_SCORE_CAP,
    progress: Callable[[int, int | None], None] | None = None,
    row_groups: Sequence[int] | None = None,
    **opts: Any,
) -> GroupCounts:
    """GroupCounts of a whole file (or of some Parquet row groups); see `iter_batches`.

    `progress(rows_done, rows_total)` is called after each batch (for a progress bar).
    Raises ScoredDataError on bad input; nothing is returned half-way.
    """
    info = opts.pop("info", None) or inspect_file(
        path,
        max_bytes=opts.pop("max_bytes", None) or sys.maxsize,
        mapping=mapping,
        check_encoding=False,
    )
    counts = _counts_for(mapping, score_cap)
    done = 0
    if row_groups is not None:
        total = sum(info.row_group_rows[g] for g in row_groups if 0 <= g < len(info.row_group_rows))
    else:
        total = info.rows
    batches = iter_batches(path, mapping, info=info, row_groups=row_groups, **opts)
    for b in _read_ahead(batches):
        counts.add_batch(
            y=b.y, yhat=b.yhat, sensitive=b.sensitive, weights=b.weights, score=b.score
        )
        done += b.rows
        if progress is not None:
            progress(done, total)
    return counts


def partial_for_row_groups(
    path: str | os.PathLike, mapping: ColumnMapping, row_groups: Sequence[int], **opts: Any
) -> GroupCounts:
    """GroupCounts of some row groups of a Parquet file (one worker's share)."""
    return summarise_file(path, mapping, row_groups=list(row_groups), **opts)


def row_group_plan(path: str | os.PathLike, parts: int) -> list[list[int]]:
    """Split a Parquet file's row groups into at most `parts` contiguous runs of similar rows."""
    if parts < 1:
        raise ValueError("parts must be positive")
    info = inspect_file(path, max_bytes=sys.maxsize, check_encoding=False)
    if info.format != "parquet":
        raise ScoredDataError("Only Parquet files can be split by row group; this is a CSV file.")
    sizes = info.row_group_rows
    parts = min(parts, len(sizes))
    cumulative = np.cumsum(sizes)
    cuts, previous = [0], 0
    for j in range(1, parts):
        cut = int(np.searchsorted(cumulative, cumulative[-1] * j / parts)) + 1
        previous = min(max(cut, previous + 1), len(sizes) - (parts - j))
        cuts.append(previous)
    cuts.append(len(sizes))
    return [list(range(cuts[i], cuts[i + 1])) for i in range(parts)]
