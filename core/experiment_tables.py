"""Outcome files as feature-flag platforms export them (issue 14): CSV or Parquet, with
their own column names and arm labels, read into the rows ``core.experiment_outcomes.
clean_rows`` checks. Pure: no Django.

An ``OutcomeMapping`` names the file's unit, arm and outcome columns and the labels its
arm column uses for each arm ("control" / "treatment", "off" / "on", variation 0 / 1...):
the shapes LaunchDarkly, GrowthBook or Optimizely exports take. Other columns are
ignored, except those named as a registered guardrail. Returns ``(rows, {})`` or
``([], {"file": message})``, like ``parse_csv``; values stay as read, checking them is
``clean_rows``'s work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.experiment_outcomes import MAX_CSV_BYTES, MAX_ROWS, OutcomeLayout

PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class OutcomeMapping:
    """Which columns of an A/B outcome file hold the unit, the arm and the outcome, and
    which labels of the arm column mean the champion and the challenger."""

    unit: str = "entity_key"
    arm: str = "arm"
    outcome: str = "outcome"
    champion_label: str = "champion"
    challenger_label: str = "challenger"

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> OutcomeMapping:
        """From a form's or an API's fields (blank ones take the defaults)."""
        raw = raw or {}
        defaults = cls()
        values = {}
        for name in ("unit", "arm", "outcome", "champion_label", "challenger_label"):
            value = raw.get(name)
            value = str(value).strip() if value is not None else ""
            values[name] = value or getattr(defaults, name)
        return cls(**values)

    def problems(self) -> list[str]:
        out = []
        columns = [self.unit, self.arm, self.outcome]
        if len(set(columns)) != len(columns):
            out.append("The unit, arm and outcome columns must be three different columns.")
        if self.champion_label == self.challenger_label:
            out.append("The champion's and the challenger's arm labels must differ.")
        return out


class _TableError(Exception):
    pass


def _columns_of_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _TableError(f"Not UTF-8 text (byte {exc.start}).") from exc
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise _TableError("The file is empty.")
    lines = [v for v in reader if v and any(c.strip() for c in v)]
    for i, values in enumerate(lines, start=2):
        if len(values) != len(header):
            raise _TableError(f"Line {i}: {len(values)} cells for {len(header)} columns.")
    return [h.strip() for h in header], lines


def _columns_of_parquet(data: bytes, wanted: list[str]) -> dict[str, list[Any]]:
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise _TableError(f"Not a readable Parquet file ({exc}).") from exc
    missing = [c for c in wanted[:3] if c not in table.column_names]
    if missing:
        raise _TableError(
            f"Missing column(s) {', '.join(missing)}; the file has "
            f"{', '.join(table.column_names[:20])}."
        )
    return {c: table.column(c).to_pylist() for c in wanted if c in table.column_names}


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _cells(
    layout: OutcomeLayout, data: bytes, mapping: OutcomeMapping
) -> tuple[int, dict[str, list[Any]], list[str]]:
    """(rows, the wanted columns' cells, the guardrail columns present)."""
    guards = list(layout.guardrails)
    wanted = [mapping.unit, mapping.arm, mapping.outcome]
    if data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        columns = _columns_of_parquet(data, wanted + guards)
        present = [g for g in guards if g in columns]
        return len(columns[mapping.unit]), {c: columns[c] for c in wanted + present}, present
    header, lines = _columns_of_csv(data)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise _TableError(
            f"Missing column(s) {', '.join(missing)}; the file has {', '.join(header[:20])}."
        )
    present = [g for g in guards if g in header]
    index = {c: header.index(c) for c in wanted + present}
    return len(lines), {c: [v[i] for v in lines] for c, i in index.items()}, present


def read_outcome_table(
    layout: OutcomeLayout,
    data: bytes,
    mapping: OutcomeMapping,
    *,
    max_bytes: int = MAX_CSV_BYTES,
    max_rows: int = MAX_ROWS,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """An A/B outcome file (CSV or Parquet, told apart by Parquet's magic bytes) read
    through ``mapping`` into rows for ``clean_rows``. A label that is neither arm's
    becomes that label, so ``clean_rows`` reports the row."""
    if layout.paired:
        return [], {"file": "A shadow comparison's outcomes use the plain CSV columns."}
    if mapping.problems():
        return [], {"mapping": mapping.problems()}
    if len(data) > max_bytes:
        return [], {"file": f"The file is larger than {max_bytes // 2**20} MB."}
    try:
        n, cells, present = _cells(layout, data, mapping)
    except _TableError as exc:
        return [], {"file": str(exc)}
    if n == 0:
        return [], {"file": "The file has a header but no rows."}
    if n > max_rows:
        return [], {"file": f"At most {max_rows:,} rows per file."}
    arms = {mapping.champion_label: "champion", mapping.challenger_label: "challenger"}
    rows = []
    for i in range(n):
        label = _label(cells[mapping.arm][i])
        value = cells[mapping.outcome][i]
        if isinstance(value, bool):  # a Parquet boolean (converted: true / false)
            value = int(value)
        rows.append(
            {
                "entity_key": _label(cells[mapping.unit][i]),
                "arm": arms.get(label, label),
                "outcome": "" if value is None else value,
                "guardrails": {g: cells[g][i] for g in present if cells[g][i] not in (None, "")},
            }
        )
    return rows, {}
