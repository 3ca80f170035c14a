"""Checking every row of an uploaded file in one streaming pass (``validate_file``),
for the worker that publishes or rejects an upload (issue 18).

The summaries' CSV reader parses outcomes as int8 and scores as float64 for speed, and
pyarrow stops at a bad value without saying where: finding the row took a second,
pure-Python pass over every row (20 s for 10M rows). Here the mapped columns are read
in types whose conversion cannot fail (labels as dictionary text, numbers as text cast
per batch) and a row with the wrong number of fields is caught by the parser's own
handler with its line number, so the pass that meets a problem also names its column
and row. What it accepts is exactly what the summaries' reader reads: outcome and
prediction columns whose first rows are plain 0/1 must stay 0/1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import pyarrow as pa
import pyarrow.csv as pacsv

from core.scored_io.inspection import inspect_file
from core.scored_io.reading import _joined, _parquet_batches, _plain_binary_columns
from core.scored_io.schema import (
    _CSV_BLOCK_MAX,
    DEFAULT_BATCH_ROWS,
    DEFAULT_MAX_GROUPS,
    ColumnMapping,
    FileInfo,
    ScoredDataError,
)
from core.scored_io.validation import _convert, _GroupTracker


def validate_file(
    path: str | os.PathLike,
    mapping: ColumnMapping,
    *,
    max_bytes: int | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_groups: int = DEFAULT_MAX_GROUPS,
    progress: Callable[[int, int | None], None] | None = None,
) -> FileInfo:
    """Check the whole file (encoding, header, mapped columns, every value); return its
    ``FileInfo`` with the rows counted. Raises ScoredDataError naming the column and the
    1-based data row of the first problem. Memory is bounded by a batch.
    ``progress(rows_done, rows_total)`` is called after each batch."""
    info = inspect_file(path, max_bytes=max_bytes or sys.maxsize, mapping=mapping)
    tracker = _GroupTracker(mapping.sensitive, max_groups)
    if info.format == "parquet":
        source = _parquet_batches(path, info, mapping, batch_rows, None)
        plain: frozenset[str] = frozenset()
    else:
        plain = frozenset(_plain_binary_columns(path, info, mapping))
        source = _tolerant_csv_batches(path, info, mapping, batch_rows)
    done = 0
    for start_row, rb in source:
        _convert(rb, mapping, start_row, tracker, plain=plain)
        done += rb.num_rows
        if progress is not None:
            progress(done, info.rows)
    if done == 0:
        raise ScoredDataError("The file has no data rows.")
    return FileInfo(
        format=info.format,
        size=info.size,
        columns=info.columns,
        rows=done,
        row_groups=info.row_groups,
        delimiter=info.delimiter,
        uncompressed_size=info.uncompressed_size,
        row_group_rows=info.row_group_rows,
    )


def _tolerant_csv_batches(path, info: FileInfo, mapping: ColumnMapping, batch_rows: int):
    text_type = pa.dictionary(pa.int32(), pa.string())
    types = {c: text_type for c in (mapping.outcome, mapping.prediction, *mapping.sensitive) if c}
    types.update({c: pa.string() for c in (mapping.score, mapping.weight) if c})
    bad_rows: list = []

    def invalid_row(row) -> str:
        bad_rows.append(row)
        return "error"

    per_row = max(info.size / max(info.rows or 1, 1), 1)
    block = int(min(max(per_row * batch_rows, 1 << 16), _CSV_BLOCK_MAX))
    try:
        # Without threads the parser knows each line's number (the row of a bad line).
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=info.delimiter, invalid_row_handler=invalid_row
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=mapping.needed(),
                column_types=types,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
        start = 1
        for rb in _rebatched(reader, batch_rows):
            yield start, rb
            start += rb.num_rows
    except pa.ArrowInvalid as exc:
        if bad_rows:
            row = bad_rows[0]
            number = row.number - 1 if row.number and row.number > 0 else None
            raise ScoredDataError(
                f"This row has {row.actual_columns} fields but the header has "
                f"{row.expected_columns}.",
                row=number,
            ) from exc
        raise ScoredDataError(f"The CSV file cannot be read: {exc}") from exc


def _rebatched(reader, batch_rows: int):
    """Consecutive blocks joined into batches of about ``batch_rows`` rows."""
    pending, rows = [], 0
    for rb in reader:
        pending.append(rb)
        rows += rb.num_rows
        if rows >= batch_rows:
            yield _joined(pending)
            pending, rows = [], 0
    if rows:
        yield _joined(pending)
