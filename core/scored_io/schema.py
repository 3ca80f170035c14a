"""What the scored-file readers share: the reading limits, the error worded for the
person who uploaded the file (``ScoredDataError``), which columns hold what
(``ColumnMapping``), what an inspection found (``FileInfo``) and a validated batch
(``Batch``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.fairness import EncodedColumn

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
