"""Observed outcomes of a pre-registered experiment, as plain values (issue #7).

Pure: no Django. An ``OutcomeLayout`` says what an experiment's rows look like (paired
or not, the metric kind, the assignment's salt and split, the registered guardrails).
``parse_csv`` turns an uploaded CSV into rows and ``clean_rows`` checks rows (from the
API or a parsed file) unit by unit; both return the field errors instead of raising,
keyed ``"file"`` or ``"rows"``, so the caller decides how to report them.

A row is ``{"entity_key", "arm", "outcome", "guardrails"}`` for an A/B test (the arm
must be the one the deterministic assignment gives the key) and ``{"entity_key",
"champion_outcome", "challenger_outcome", "guardrails"}`` for shadow scoring, where a
guardrail holds both models' values. A proportion's outcomes are 0 or 1; an empty cell
is a missing outcome.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.experiment_stats import ARMS, assign_arm

MAX_ROWS = 500_000
MAX_CSV_BYTES = 100 * 1024 * 1024
MAX_ROW_ERRORS = 20
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class OutcomeLayout:
    """What one experiment's outcome rows look like. ``guardrails`` maps each registered
    guardrail's name to its metric kind, in the protocol's order."""

    paired: bool
    metric_kind: str
    salt: str = ""
    split: Mapping[str, float] | None = None
    guardrails: Mapping[str, str] = field(default_factory=dict)
    external: bool = False  # an outside randomiser assigned the arms (issue 14)

    @classmethod
    def of(
        cls,
        *,
        design: str,
        metric_kind: str,
        salt: str,
        protocol: Mapping[str, Any],
        external: bool = False,
    ) -> OutcomeLayout:
        """The layout of an experiment from its design, metric kind, salt and stored
        protocol (``Protocol.to_dict()``); ``external`` when an outside randomiser
        assigned the arms (no per-row check against the hash)."""
        return cls(
            paired=design == "shadow",
            metric_kind=metric_kind,
            salt=salt,
            split=protocol.get("split"),
            guardrails={g["name"]: g["metric_kind"] for g in protocol.get("guardrails") or []},
            external=external,
        )


def csv_columns(layout: OutcomeLayout) -> list[str]:
    """The columns an outcomes CSV has: the key, the arm and the outcome (A/B) or both
    models' outcomes (shadow), then one column per guardrail (shadow: two)."""
    if layout.paired:
        cols = ["entity_key", "champion_outcome", "challenger_outcome"]
        return cols + [f"{g}.{arm}" for g in layout.guardrails for arm in ARMS]
    return ["entity_key", "arm", "outcome", *layout.guardrails]


# --- Checking rows ---------------------------------------------------------------------------


def parse_number(value: Any) -> float | None:
    """A number, None for an empty cell; ValueError for anything else (booleans,
    non-finite numbers, text that is not a number)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        number = float(value.strip())
    else:
        raise ValueError
    if not math.isfinite(number):
        raise ValueError
    return number


# what must be 0 or 1 for a proportion, in the messages
_OUTCOME = "a proportion's outcome"
_GUARDRAIL = "a proportion guardrail"


def _binary_ok(kind: str, value: float | None) -> bool:
    return value is None or kind != "proportion" or value in (0.0, 1.0)


def _checked_number(kind: str, where: str, value: Any, what: str) -> float | None:
    """``value`` as a number of a metric of ``kind``; ValueError naming ``where`` (and
    saying ``what`` must be 0 or 1 for a proportion)."""
    try:
        number = parse_number(value)
    except ValueError:
        raise ValueError(f"{where}: not a number: {value!r}") from None
    if not _binary_ok(kind, number):
        raise ValueError(f"{where}: {what} is 0 or 1, not {number:g}")
    return number


def _entity_key(row: dict[str, Any]) -> str:
    key = row.get("entity_key")
    key = str(key).strip() if isinstance(key, str | int) and not isinstance(key, bool) else ""
    if not key:
        raise ValueError("entity_key: an unknown unit (empty key)")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"entity_key: longer than {MAX_KEY_LENGTH} characters")
    return key


def _paired_outcomes(layout: OutcomeLayout, row: dict[str, Any]) -> dict[str, Any]:
    if row.get("arm") not in (None, ""):
        raise ValueError("arm: a shadow comparison has no arms (both models score each unit)")
    out = {}
    for side in ("champion_outcome", "challenger_outcome"):
        out[side] = _checked_number(layout.metric_kind, side, row.get(side), _OUTCOME)
    if (out["champion_outcome"] is None) != (out["challenger_outcome"] is None):
        raise ValueError("give both models' outcomes for a unit, or neither (missing)")
    return out


def _arm_outcome(layout: OutcomeLayout, row: dict[str, Any], key: str) -> dict[str, Any]:
    arm = row.get("arm")
    if arm not in ARMS:
        raise ValueError(f"arm: unknown arm {arm!r}; use champion or challenger")
    if not layout.external:
        assigned = assign_arm(layout.salt, key, layout.split)
        if arm != assigned:
            raise ValueError(f"arm: unit {key!r} is assigned to the {assigned}, not the {arm}")
    outcome = _checked_number(layout.metric_kind, "outcome", row.get("outcome"), _OUTCOME)
    return {"arm": arm, "outcome": outcome}


def _guardrail(layout: OutcomeLayout, name: str, value: Any) -> Any:
    """One guardrail's value (A/B) or values per model (shadow), None when missing."""
    kind = layout.guardrails[name]
    if not layout.paired:
        return _checked_number(kind, f"guardrails.{name}", value, _GUARDRAIL)
    cleaned = {}
    for side in ARMS:
        v = (value or {}).get(side) if isinstance(value, dict) else "bad"
        cleaned[side] = _checked_number(kind, f"guardrails.{name}.{side}", v, _GUARDRAIL)
    return cleaned if any(v is not None for v in cleaned.values()) else None


def _guardrails(layout: OutcomeLayout, row: dict[str, Any]) -> dict[str, Any]:
    given = row.get("guardrails") or {}
    if not isinstance(given, dict):
        raise ValueError("guardrails: must be an object of guardrail values")
    out = {}
    for name, value in given.items():
        if name not in layout.guardrails:
            raise ValueError(f"guardrails: {name!r} is not a registered guardrail")
        cleaned = _guardrail(layout, name, value)
        if cleaned is not None:
            out[name] = cleaned
    return out


def clean_row(layout: OutcomeLayout, row: Any) -> dict[str, Any]:
    """One unit's row, checked and normalised (key stripped, numbers as floats, missing
    guardrails dropped); raises ValueError with a message naming the field."""
    if not isinstance(row, dict):
        raise ValueError("must be an object")
    key = _entity_key(row)
    out: dict[str, Any] = {"entity_key": key, "arm": "", "guardrails": {}}
    if layout.paired:
        out.update(_paired_outcomes(layout, row))
    else:
        out.update(_arm_outcome(layout, row, key))
    out["guardrails"] = _guardrails(layout, row)
    return out


def clean_rows(
    layout: OutcomeLayout,
    rows: Any,
    *,
    max_rows: int = MAX_ROWS,
    max_errors: int = MAX_ROW_ERRORS,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(cleaned rows, {})``, or ``([], {"rows": ...})``: an empty batch, too many rows,
    or the list of the rows at fault ("Row 3: outcome: not a number: 'x'"), stopping
    after ``max_errors`` of them."""
    if not isinstance(rows, list) or not rows:
        return [], {"rows": "The batch is empty."}
    if len(rows) > max_rows:
        return [], {"rows": f"At most {max_rows:,} rows per batch."}
    cleaned, errors = [], []
    for i, row in enumerate(rows, start=1):
        try:
            cleaned.append(clean_row(layout, row))
        except ValueError as exc:
            errors.append(f"Row {i}: {exc}")
            if len(errors) >= max_errors:
                errors.append("(further rows not checked)")
                break
    if errors:
        return [], {"rows": errors}
    return cleaned, {}


# --- Parsing a CSV file ----------------------------------------------------------------------


class _FileError(Exception):
    """The file cannot be read; the message says why (reported under "file")."""


def _header(reader: Any, expected: list[str]) -> list[str]:
    header = next(reader, None)
    if not header:
        raise _FileError("The file is empty.")
    header = [h.strip() for h in header]
    missing = [c for c in expected[:3] if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise _FileError(f"{'; '.join(parts).capitalize()}. Expected: {', '.join(expected)}.")
    if len(set(header)) != len(header):
        raise _FileError("A column appears twice in the header.")
    return header


def _row_of_cells(
    layout: OutcomeLayout, expected: list[str], cell: dict[str, str]
) -> dict[str, Any]:
    """A row for ``clean_rows`` from one line's cells (by column)."""
    row: dict[str, Any] = {"entity_key": cell["entity_key"]}
    if layout.paired:
        row["champion_outcome"] = cell["champion_outcome"]
        row["challenger_outcome"] = cell["challenger_outcome"]
        guards: dict[str, Any] = {}
        for col, value in cell.items():
            if "." in col and col not in expected[:3] and value.strip():
                name, arm = col.rsplit(".", 1)
                guards.setdefault(name, {a: None for a in ARMS})[arm] = value
        row["guardrails"] = guards
    else:
        row["arm"] = cell["arm"].strip()
        row["outcome"] = cell["outcome"]
        row["guardrails"] = {c: cell[c] for c in expected[3:] if c in cell and cell[c].strip()}
    return row


def _read_rows(
    layout: OutcomeLayout, data: bytes, max_bytes: int, max_rows: int
) -> list[dict[str, Any]]:
    if len(data) > max_bytes:
        raise _FileError(f"The file is larger than {max_bytes // 2**20} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _FileError(f"Not UTF-8 text (byte {exc.start}).") from exc
    reader = csv.reader(io.StringIO(text))
    expected = csv_columns(layout)
    header = _header(reader, expected)
    rows = []
    for line, values in enumerate(reader, start=2):
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise _FileError(f"Line {line}: {len(values)} cells for {len(header)} columns.")
        rows.append(_row_of_cells(layout, expected, dict(zip(header, values, strict=True))))
        if len(rows) > max_rows:
            raise _FileError(f"At most {max_rows:,} rows per file.")
    if not rows:
        raise _FileError("The file has a header but no rows.")
    return rows


def parse_csv(
    layout: OutcomeLayout,
    data: bytes,
    *,
    max_bytes: int = MAX_CSV_BYTES,
    max_rows: int = MAX_ROWS,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """CSV bytes -> ``(rows for clean_rows, {})``, or ``([], {"file": message})`` for a
    file over ``max_bytes``, not UTF-8 (a BOM is allowed), empty, lacking a required
    column or having an unknown or repeated one, with a line of the wrong width, with no
    rows or more than ``max_rows`` (blank lines are skipped). Values stay text: checking
    them is ``clean_rows``'s work."""
    try:
        return _read_rows(layout, data, max_bytes, max_rows), {}
    except _FileError as exc:
        return [], {"file": str(exc)}
