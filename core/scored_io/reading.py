"""Streaming the mapped columns of a CSV or Parquet file in batches, memory flat in the
number of rows (``iter_batches``, validated; ``iter_columns``, raw), and locating the row
a failed CSV read stumbled on."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.scored_io.inspection import _check_columns, _check_utf8, inspect_file
from core.scored_io.schema import (
    _CSV_BLOCK_MAX,
    _LABELS,
    _SNIFF_BYTES,
    DEFAULT_BATCH_ROWS,
    DEFAULT_MAX_GROUPS,
    Batch,
    ColumnMapping,
    FileInfo,
    ScoredDataError,
)
from core.scored_io.validation import _convert, _GroupTracker


def iter_batches(
    path: str | os.PathLike,
    mapping: ColumnMapping,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_groups: int = DEFAULT_MAX_GROUPS,
    max_bytes: int | None = None,
    row_groups: Sequence[int] | None = None,
    info: FileInfo | None = None,
) -> Iterator[Batch]:
    """Validated batches of the mapped columns; raises ScoredDataError on bad data.

    `row_groups` (Parquet only) restricts the reading to those row groups; row numbers
    stay those of the whole file. `info` skips a repeated `inspect_file`.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    if info is None:
        info = inspect_file(
            path, max_bytes=max_bytes or sys.maxsize, mapping=mapping, check_encoding=False
        )
    else:
        _check_columns(info, mapping)
    tracker = _GroupTracker(mapping.sensitive, max_groups)
    if info.format == "parquet":
        source = _parquet_batches(path, info, mapping, batch_rows, row_groups)
    elif row_groups is not None:
        raise ScoredDataError("Only Parquet files can be read by row group; this is a CSV file.")
    else:
        source = _csv_batches(path, info, mapping, batch_rows)
    for start_row, rb in source:
        yield _convert(rb, mapping, start_row, tracker)


def _parquet_batches(path, info, mapping, batch_rows, row_groups):
    schema = pq.read_schema(path)
    strings = [
        c
        for c in mapping.sensitive
        if pa.types.is_string(schema.field(c).type)
        or pa.types.is_large_string(schema.field(c).type)
    ]
    pf = pq.ParquetFile(path, read_dictionary=strings)
    offsets = np.concatenate([[0], np.cumsum(info.row_group_rows)]).astype(int).tolist()
    groups = range(info.row_groups) if row_groups is None else row_groups
    for rg in groups:
        if not 0 <= rg < info.row_groups:
            raise ScoredDataError(f"The file has no row group {rg}.")
        start = offsets[rg] + 1
        for rb in pf.iter_batches(batch_size=batch_rows, row_groups=[rg], columns=mapping.needed()):
            yield start, rb
            start += rb.num_rows


def _csv_batches(path, info, mapping, batch_rows):
    text_type = pa.dictionary(pa.int32(), pa.string())
    types = {c: text_type for c in (mapping.outcome, mapping.prediction, *mapping.sensitive) if c}
    types.update({c: pa.int8() for c in _plain_binary_columns(path, info, mapping)})
    types.update({c: pa.float64() for c in (mapping.score, mapping.weight) if c})
    per_row = max(info.size / max(info.rows or 1, 1), 1)
    block = int(min(max(per_row * batch_rows, 1 << 16), _CSV_BLOCK_MAX))
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block),
            parse_options=pacsv.ParseOptions(delimiter=info.delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=mapping.needed(),
                column_types=types,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
        start, pending, rows = 1, [], 0
        for rb in reader:
            pending.append(rb)
            rows += rb.num_rows
            if rows >= batch_rows:
                yield start, _joined(pending)
                start, pending, rows = start + rows, [], 0
        if rows:
            yield start, _joined(pending)
    except pa.ArrowInvalid as exc:
        raise _csv_problem(path, info, mapping, exc) from exc


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One record batch of consecutive blocks (their text dictionaries unified)."""
    if len(batches) == 1:
        return batches[0]
    table = pa.Table.from_batches(batches).unify_dictionaries().combine_chunks()
    return table.to_batches()[0]


def _plain_binary_columns(path, info: FileInfo, mapping: ColumnMapping) -> list[str]:
    """Outcome/prediction columns whose first rows are all 0/1: parsed as int8 (faster
    than text); a later other spelling stops the reading and `_csv_problem` names it."""
    with open(path, "rb") as f:
        text = f.read(_SNIFF_BYTES).decode("utf-8", "ignore").removeprefix("\ufeff")
    rows = list(csv.reader(text.splitlines()[1:-1], delimiter=info.delimiter))
    index = {c: i for i, c in enumerate(info.columns)}
    out = []
    for column in (mapping.outcome, mapping.prediction):
        if column is None:
            continue
        values = {r[index[column]] for r in rows if len(r) == len(info.columns)}
        if values and values <= {"0", "1"}:
            out.append(column)
    return out


def _csv_problem(path, info: FileInfo, mapping: ColumnMapping, exc: Exception) -> ScoredDataError:
    """Find the row pyarrow stumbled on (it does not say) with a plain csv scan."""
    _check_utf8(path)  # raises, with the row, if the trouble is the encoding
    numeric = {mapping.score: "score", mapping.weight: "weight"}
    binary = {
        c: role
        for c, role in ((mapping.outcome, "outcome"), (mapping.prediction, "prediction"))
        if c
    }
    binary = {c: r for c, r in binary.items() if c in _plain_binary_columns(path, info, mapping)}
    index = {c: i for i, c in enumerate(info.columns)}
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=info.delimiter)
        next(rows, None)
        for number, row in enumerate(rows, start=1):
            if not row:
                continue
            if len(row) != len(info.columns):
                return ScoredDataError(
                    f"This row has {len(row)} fields but the header has {len(info.columns)}.",
                    row=number,
                )
            for column, role in binary.items():
                value = row[index[column]]
                if value.strip() not in ("0", "1", ""):
                    spelt = value.strip().lower() in _LABELS
                    why = (
                        "is spelt differently from the first rows (0/1)"
                        if spelt
                        else ("is not 0/1 or true/false")
                    )
                    return ScoredDataError(
                        f"The {role} {value[:40]!r} {why}.", column=column, row=number
                    )
            for column, role in numeric.items():
                value = row[index[column]] if column else ""
                if column and value != "":
                    try:
                        float(value)
                    except ValueError:
                        return ScoredDataError(
                            f"The {role} {value[:40]!r} is not a number.", column=column, row=number
                        )
    return ScoredDataError(f"The CSV file cannot be read: {exc}")


def iter_columns(
    path: str | os.PathLike,
    info: FileInfo,
    columns: Sequence[str],
    *,
    text: Sequence[str] = (),
    batch_rows: int = 1_000_000,
) -> Iterator[pa.RecordBatch]:
    """Record batches of only ``columns`` (those present in the file), about
    ``batch_rows`` rows each, memory flat in the file's rows: the raw reader under the
    monitoring summaries, which validate per window rather than per file. ``text``
    columns of a CSV are read as text (timestamps, ids, categories). Raises
    ScoredDataError when the file cannot be read."""
    wanted = [c for c in dict.fromkeys(columns) if c in info.columns]
    try:
        if info.format == "parquet":
            # pre_buffer=False: with it, pyarrow buffers every requested row group at
            # once (memory would grow with the file); without it, one batch at a time.
            pf = pq.ParquetFile(path, pre_buffer=False)
            yield from pf.iter_batches(batch_size=batch_rows, columns=wanted)
            return
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_MAX),
            parse_options=pacsv.ParseOptions(delimiter=info.delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={c: pa.string() for c in text if c in wanted},
                strings_can_be_null=True,
                null_values=["", "NA", "NaN", "nan", "null"],
            ),
        )
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise ScoredDataError(f"The file cannot be read: {exc}") from exc
