"""Checking a stored file before anything parses it (``inspect_file``): size, format by
content (Parquet magic bytes or UTF-8 CSV), encoding, delimiter, header, and that the
mapped columns exist."""

from __future__ import annotations

import codecs
import csv
import difflib
import os

import pyarrow as pa
import pyarrow.parquet as pq

from core.scored_io.schema import (
    _MAGIC,
    _SNIFF_BYTES,
    DELIMITERS,
    UNCOMPRESSED_FACTOR,
    ColumnMapping,
    FileInfo,
    ScoredDataError,
)


def inspect_file(
    path: str | os.PathLike,
    *,
    max_bytes: int,
    max_uncompressed_bytes: int | None = None,
    mapping: ColumnMapping | None = None,
    check_encoding: bool = True,
    head_only: bool = False,
) -> FileInfo:
    """Check a file before parsing it; raise ScoredDataError with a readable reason.

    The size is checked first (os.stat), then the format by content: Parquet starts and
    ends with PAR1 (its metadata's uncompressed size is checked against
    `max_uncompressed_bytes`, by default 10 x `max_bytes`); anything else is read as
    UTF-8 CSV with a sniffed delimiter. With a mapping, the mapped columns must exist.
    `check_encoding=False` skips decoding the whole CSV (the upload-time inspection does
    it; the readers let pyarrow check the columns they read and locate any bad byte).
    `head_only=True` reads only the first bytes of a CSV (its rows are then unknown,
    None): the checks an upload answers at once, before the worker reads every row.
    """
    size = os.stat(path).st_size
    if size == 0:
        raise ScoredDataError("The file is empty.")
    if size > max_bytes:
        raise ScoredDataError(f"The file is {size:,} bytes, over the limit of {max_bytes:,}.")
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(max(size - 4, 0))
        tail = f.read(4)
    if head == _MAGIC:
        limit = max_uncompressed_bytes or UNCOMPRESSED_FACTOR * max_bytes
        info = _inspect_parquet(path, size, tail, limit)
    elif tail == _MAGIC and size >= 8:
        raise ScoredDataError("The file ends like a Parquet file but does not start like one.")
    else:
        info = _inspect_csv(path, size, check_encoding, head_only)
    if mapping is not None:
        _check_columns(info, mapping)
    if info.rows == 0:
        raise ScoredDataError("The file has no data rows.")
    return info


def _inspect_parquet(path, size: int, tail: bytes, limit: int) -> FileInfo:
    if size < 12 or tail != _MAGIC:
        raise ScoredDataError(
            "The Parquet file is truncated: its footer is missing (was the upload cut short?)."
        )
    try:
        md = pq.ParquetFile(path).metadata
        schema = md.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise ScoredDataError(f"The Parquet file is damaged and cannot be read ({exc}).") from exc
    groups = [md.row_group(i) for i in range(md.num_row_groups)]
    uncompressed = sum(g.total_byte_size for g in groups)
    if uncompressed > limit:
        raise ScoredDataError(
            f"The Parquet file unpacks to {uncompressed:,} bytes, over the limit of {limit:,}."
        )
    return FileInfo(
        format="parquet",
        size=size,
        columns=list(schema.names),
        rows=md.num_rows,
        row_groups=md.num_row_groups,
        uncompressed_size=uncompressed,
        row_group_rows=[g.num_rows for g in groups],
    )


def _inspect_csv(path, size: int, check_encoding: bool = True, head_only=False) -> FileInfo:
    newlines, last = (0, b"") if head_only else _check_utf8(path, decode=check_encoding)
    with open(path, "rb") as f:
        sample = f.read(_SNIFF_BYTES)
    if b"\n" in sample or len(sample) == size:
        try:  # the header is always checked strictly (the rest by check_encoding or pyarrow)
            sample.split(b"\n", 1)[0].decode("utf-8")
        except UnicodeDecodeError as exc:
            _raise_encoding(exc, 0)
    text = sample.decode("utf-8", "ignore").removeprefix("\ufeff")
    lines = text.splitlines()
    if len(sample) < size and len(lines) > 1:
        lines = lines[:-1]  # the sample may end mid-line
    if not lines or not lines[0].strip():
        raise ScoredDataError("The first line (the header) is empty.", row=None)
    delimiter = _sniff_delimiter(lines[:50])
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise ScoredDataError("The header names this column more than once.", column=dupes[0])
    if head_only:
        rows = None if len(lines) > 1 or len(sample) < size else 0
        return FileInfo(format="csv", size=size, columns=header, rows=rows, delimiter=delimiter)
    data_lines = newlines + (0 if last == b"\n" else 1) - 1
    return FileInfo(format="csv", size=size, columns=header, rows=data_lines, delimiter=delimiter)


def _check_utf8(path, decode: bool = True) -> tuple[int, bytes]:
    """Decode the whole file as UTF-8 in chunks; return (newline count, last byte)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines, last = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            if decode:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    _raise_encoding(exc, newlines)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            _raise_encoding(exc, newlines)
    return newlines, last


def _raise_encoding(exc: UnicodeDecodeError, newlines_before: int) -> None:
    line = newlines_before + exc.object[: exc.start].count(b"\n")  # 0 = the header
    byte = exc.object[exc.start]
    where = "in the header" if line == 0 else f"at data row {line:,}"
    raise ScoredDataError(
        f"The file is not UTF-8 text: byte 0x{byte:02x} {where} cannot be decoded. "
        "Save it as CSV UTF-8 (or Parquet) and upload it again.",
        row=line or None,
    ) from exc


def _sniff_delimiter(lines: list[str]) -> str:
    best, best_cols = ",", 1
    for d in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=d) if r]
        cols = len(rows[0]) if rows else 0
        if cols > best_cols and all(len(r) == cols for r in rows):
            best, best_cols = d, cols
    return best


def _check_columns(info: FileInfo, mapping: ColumnMapping) -> None:
    present = set(info.columns)
    for role, name in mapping.roles():
        if name in present:
            continue
        if info.format == "csv" and len(info.columns) == 1 and len(mapping.roles()) > 1:
            raise ScoredDataError(
                f"The header has a single column ({info.columns[0][:80]!r}) but the mapping "
                f"needs {len(mapping.roles())}: the delimiter was not recognised. Separate "
                "columns with a comma, semicolon, tab or vertical bar.",
                column=name,
            )
        folded = {c.strip().casefold(): c for c in info.columns}
        close = [folded[k] for k in [name.strip().casefold()] if k in folded]
        close += [
            c for c in difflib.get_close_matches(name, info.columns, 3, 0.6) if c not in close
        ]
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(repr(c) for c in info.columns[:30])
        more = " ..." if len(info.columns) > 30 else ""
        raise ScoredDataError(
            f"The {role} column is not in the file.{hint} The file's columns are: {listed}{more}.",
            column=name,
        )
