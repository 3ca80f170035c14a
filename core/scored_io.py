"""Reading scored datasets (CSV or Parquet) into validated numpy batches (issue #5).

Pure: pyarrow and numpy, no Django, no pandas. `inspect_file` checks a stored file before
anything parses it (size, format by content, encoding, delimiter, header); `iter_batches`
streams only the mapped columns in batches, so memory stays flat in the number of rows,
and validates every value with the column and the 1-based data row (row 1 is the first
row after a CSV header, or the first row of a Parquet file) in its message.
`summarise_file` and `partial_for_row_groups` fold the batches into
`core.fairness.GroupCounts`; partials over a `row_group_plan` merge to the whole.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.fairness import DEFAULT_SCORE_CAP, EncodedColumn, GroupCounts, label_for

DELIMITERS = (",", ";", "\t", "|")
DEFAULT_MAX_GROUPS = 1_000
DEFAULT_BATCH_ROWS = 1_000_000
UNCOMPRESSED_FACTOR = 10  # default Parquet uncompressed limit = 10 x the file-size limit
_SNIFF_BYTES = 64 * 1024
# pyarrow's streaming CSV reader reads up to 32 blocks ahead of the batch being used, so the
# block size bounds the memory a CSV read takes (32 x 4 MiB); blocks are then joined into
# batches of about `batch_rows` rows, as large as Parquet's (the speed check in #5).
_CSV_BLOCK_MAX = 4 << 20
_MAGIC = b"PAR1"
_LABELS = {"0": 0, "1": 1, "false": 0, "true": 1, "0.0": 0, "1.0": 1}
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


class ScoredDataError(Exception):
    """A problem with an uploaded scored dataset, worded for the person who uploaded it."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column
        self.row = row

    def __str__(self) -> str:
        where = []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row:,}")
        if not where:
            return self.message
        prefix = ", ".join(where)
        return f"{prefix[0].upper()}{prefix[1:]}: {self.message}"


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns of the file hold what. Raises ScoredDataError when it makes no sense.

    The prediction is the `prediction` column (0/1), or `score >= threshold` when only a
    score and a threshold are given. A score (in [0, 1]) also gives ROC AUC per group.
    """

    outcome: str
    sensitive: Sequence[str]
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    weight: str | None = None
    timestamp: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        sens = [self.sensitive] if isinstance(self.sensitive, str) else list(self.sensitive)
        object.__setattr__(self, "sensitive", tuple(sens))
        for role, name in self.roles():
            if not isinstance(name, str) or not name.strip():
                raise ScoredDataError(f"The {role} column needs a name.")
        if not sens:
            raise ScoredDataError("Map at least one sensitive attribute (e.g. race, sex).")
        if self.prediction is None and self.score is None:
            raise ScoredDataError("Map a prediction column, or a score column and a threshold.")
        if self.threshold is not None:
            if self.score is None:
                raise ScoredDataError("A threshold needs a score column.")
            if self.prediction is not None:
                raise ScoredDataError("Give a prediction column or a threshold, not both.")
            t = self.threshold
            if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 1:
                raise ScoredDataError(f"The threshold must be a number in [0, 1], not {t!r}.")
        elif self.prediction is None:
            raise ScoredDataError("A score column without a prediction column needs a threshold.")
        seen: dict[str, str] = {}
        for role, name in self.roles():
            if name in seen:
                raise ScoredDataError(
                    f"It is mapped twice (as {seen[name]} and as {role}).", column=name
                )
            seen[name] = role

    def roles(self) -> list[tuple[str, str]]:
        """(role, column) for every mapped column, in reading order."""
        pairs = [("outcome", self.outcome), ("prediction", self.prediction)]
        pairs += [("score", self.score), ("weight", self.weight)]
        pairs += [("sensitive attribute", s) for s in self.sensitive]
        pairs += [("timestamp", self.timestamp), ("id", self.id)]
        return [(role, name) for role, name in pairs if name is not None]

    def needed(self) -> list[str]:
        """The columns the summary reads (timestamp and id are only checked to exist)."""
        return [name for role, name in self.roles() if role not in ("timestamp", "id")]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["sensitive"] = list(self.sensitive)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScoredDataError(f"Unknown mapping keys: {', '.join(unknown)}.")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ScoredDataError(f"Incomplete column mapping: {exc}.") from exc


@dataclass(frozen=True)
class FileInfo:
    """What `inspect_file` found. `rows` of a CSV counts its data lines."""

    format: str  # "csv" | "parquet"
    size: int
    columns: list[str]
    rows: int | None = None
    row_groups: int | None = None
    delimiter: str | None = None
    uncompressed_size: int | None = None
    row_group_rows: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    """Validated rows: start_row is the 1-based data row of the first one."""

    start_row: int
    y: np.ndarray  # int8, 0/1
    yhat: np.ndarray  # int8, 0/1
    score: np.ndarray | None  # float64 in [0, 1]
    weights: np.ndarray | None  # float64 >= 0
    sensitive: dict[str, EncodedColumn]

    @property
    def rows(self) -> int:
        return len(self.y)


# -- inspection ----------------------------------------------------------------------------


def inspect_file(
    path: str | os.PathLike,
    *,
    max_bytes: int,
    max_uncompressed_bytes: int | None = None,
    mapping: ColumnMapping | None = None,
    check_encoding: bool = True,
) -> FileInfo:
    """Check a file before parsing it; raise ScoredDataError with a readable reason.

    The size is checked first (os.stat), then the format by content: Parquet starts and
    ends with PAR1 (its metadata's uncompressed size is checked against
    `max_uncompressed_bytes`, by default 10 x `max_bytes`); anything else is read as
    UTF-8 CSV with a sniffed delimiter. With a mapping, the mapped columns must exist.
    `check_encoding=False` skips decoding the whole CSV (the upload-time inspection does
    it; the readers let pyarrow check the columns they read and locate any bad byte).
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
        info = _inspect_csv(path, size, check_encoding)
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


def _inspect_csv(path, size: int, check_encoding: bool = True) -> FileInfo:
    newlines, last = _check_utf8(path, decode=check_encoding)
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


# -- batches ---------------------------------------------------------------------------


class _GroupTracker:
    """Distinct labels per sensitive column, to stop at `max_groups` with the row."""

    def __init__(self, columns: Sequence[str], max_groups: int):
        self.max_groups = max_groups
        self.seen: dict[str, set[str]] = {c: set() for c in columns}

    def check(self, column: str, enc: EncodedColumn, start_row: int) -> None:
        seen = self.seen[column]
        labels = [label_for(v) for v in enc.labels]
        if enc.codes.size and enc.codes.min() < 0:
            labels.append(label_for(None))
        new = {lab for lab in labels if lab not in seen}
        if len(seen) + len(new) <= self.max_groups:
            seen |= new
            return
        u, first = np.unique(enc.codes, return_index=True)
        where = {labels[c]: int(i) for c, i in zip(u.tolist(), first.tolist(), strict=True)}
        ordered = sorted(new, key=lambda lab: where.get(lab, len(enc.codes)))
        crossing = ordered[self.max_groups - len(seen)]
        row = start_row + where[crossing] if crossing in where else None
        raise ScoredDataError(
            f"This sensitive attribute has more than {self.max_groups:,} distinct values "
            f"(value {crossing[:60]!r} is number {self.max_groups + 1:,}). A sensitive "
            "attribute must be a category such as race or sex, not an identifier.",
            column=column,
            row=row,
        )


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


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _no_nulls(arr: pa.Array, column: str, role: str, start_row: int) -> None:
    if arr.null_count:
        i = _first(arr.is_null().to_numpy(zero_copy_only=False))
        raise ScoredDataError(f"The {role} is missing.", column=column, row=start_row + i)


def _binary(arr: pa.Array, column: str, role: str, start_row: int) -> np.ndarray:
    _no_nulls(arr, column, role, start_row)
    t = arr.type
    if pa.types.is_boolean(t):
        return arr.to_numpy(zero_copy_only=False).view(np.int8)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        v = arr.to_numpy(zero_copy_only=False)
        bad = ~((v == 0) | (v == 1))
        if bad.any():
            i = _first(bad)
            raise ScoredDataError(
                f"The {role} {v[i].item()!r} is not 0 or 1.", column=column, row=start_row + i
            )
        return v.astype(np.int8)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr, t = pc.dictionary_encode(arr), None
    if t is None or pa.types.is_dictionary(t):
        values = arr.dictionary.to_pylist()
        lut = np.array([_LABELS.get(str(v).strip().lower(), -1) for v in values] + [-1], np.int8)
        out = lut[arr.indices.to_numpy(zero_copy_only=False)]
        if out.min(initial=0) < 0:
            i = _first(out < 0)
            value = values[arr.indices[i].as_py()]
            raise ScoredDataError(
                f"The {role} {value!r} is not 0/1 or true/false.", column=column, row=start_row + i
            )
        return out
    raise ScoredDataError(f"The {role} must be 0/1 or true/false, not {t}.", column=column)


def _number(arr: pa.Array, column: str, role: str, start_row: int) -> np.ndarray:
    _no_nulls(arr, column, role, start_row)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise ScoredDataError(f"The {role} must be numbers, not {arr.type}.", column=column)
    v = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if role == "score":
        bad, why = ~((v >= 0) & (v <= 1)), "outside [0, 1]"
    else:
        bad, why = ~((v >= 0) & (v < math.inf)), "negative or not finite"
    if bad.any():
        i = _first(bad)
        raise ScoredDataError(
            f"The {role} {v[i].item()!r} is {why}.", column=column, row=start_row + i
        )
    return v


def _sensitive(arr: pa.Array) -> EncodedColumn:
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    indices = arr.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return EncodedColumn(indices.to_numpy(zero_copy_only=False), arr.dictionary.to_pylist())


def _convert(rb: pa.RecordBatch, mapping: ColumnMapping, start: int, tracker) -> Batch:
    col = rb.column
    y = _binary(col(mapping.outcome), mapping.outcome, "outcome", start)
    score = weights = None
    if mapping.score:
        score = _number(col(mapping.score), mapping.score, "score", start)
    if mapping.weight:
        weights = _number(col(mapping.weight), mapping.weight, "weight", start)
    if mapping.prediction:
        yhat = _binary(col(mapping.prediction), mapping.prediction, "prediction", start)
    else:
        yhat = (score >= mapping.threshold).view(np.int8)
    sensitive = {}
    for name in mapping.sensitive:
        enc = _sensitive(col(name))
        tracker.check(name, enc, start)
        sensitive[name] = enc
    return Batch(start, y, yhat, score, weights, sensitive)


# -- counts -----------------------------------------------------------------------------


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
    for b in iter_batches(path, mapping, info=info, row_groups=row_groups, **opts):
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


__all__ = [
    "Batch",
    "ColumnMapping",
    "FileInfo",
    "ScoredDataError",
    "inspect_file",
    "iter_batches",
    "partial_for_row_groups",
    "row_group_plan",
    "summarise_file",
]


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
