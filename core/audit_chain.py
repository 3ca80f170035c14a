"""The audit trail's hash chain and exports, as pure functions (no Django imports).

Every audit event is hashed together with the hash of the event before it:

    hash(n) = sha256(prev_hash(n) + "\\n" + canonical_json(payload(n)))
    prev_hash(n) = hash(n - 1), and GENESIS (64 zeros) for seq 1

so altering any stored field of a row changes its hash (an *altered* row), deleting a
row leaves a gap in ``seq`` (a *missing* row), and a row rewritten together with its
hash no longer matches the next row's ``prev_hash`` (a *broken link*). Rewriting the
whole tail of the chain is only caught against a head hash kept elsewhere (see
``audit_verify --anchor``).

The canonical form must be the same whether a payload is built before it is stored or
read back from the database, on SQLite or PostgreSQL: keys sorted, times in UTC ISO
format with microseconds, decimals, UUIDs and dates as strings, integral floats as
integers (PostgreSQL's jsonb gives ``1e100`` back as an integer).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64

# Cells of a CSV export that a spreadsheet would run as a formula (OWASP "CSV
# injection"): a leading = + - @, or a tab / carriage return before one of them.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data that round-trips unchanged through a JSON column.

    Datetimes become UTC ISO strings, dates and times ISO strings, decimals and UUIDs
    strings, tuples and sets lists (sets sorted), non-finite floats strings; anything
    else unknown becomes its ``str()``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def iso_utc(moment: dt.datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; naive ones are
    taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one serialisation of a payload that is hashed."""
    return json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """The hex SHA-256 that chains an event to the one before it."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(payload).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """One stored event as the verifier sees it. ``payload`` holds every hashed field
    (including ``seq``); ``row_id`` is only for the report."""

    seq: int
    row_id: Any
    prev_hash: str
    hash: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int
    row_id: Any
    kind: str  # "altered", "missing" or "broken_link"
    reason: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.row_id is None else f"seq {self.seq} (id {self.row_id})"
        return f"{where}: {self.reason}"


@dataclass
class ChainVerifier:
    """Checks rows fed in ``seq`` order, one at a time (memory stays flat); stops
    at the first break. ``count``, ``last_seq`` and ``head_hash`` describe the intact
    part."""

    count: int = 0
    last_seq: int = 0
    head_hash: str = GENESIS
    broken: Break | None = field(default=None)

    def feed(self, row: ChainRow) -> Break | None:
        if self.broken is not None:
            return self.broken
        expected_seq = self.last_seq + 1
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                missing = (
                    f"seq {expected_seq}"
                    if row.seq == expected_seq + 1
                    else f"seq {expected_seq} to {row.seq - 1}"
                )
                self.broken = Break(
                    expected_seq,
                    None,
                    "missing",
                    f"missing: {missing} not found; the chain goes from seq "
                    f"{self.last_seq} to seq {row.seq} (id {row.row_id})",
                )
            else:
                self.broken = Break(
                    row.seq,
                    row.row_id,
                    "altered",
                    f"out of order: seq {row.seq} found after seq {self.last_seq}",
                )
            return self.broken
        if row.prev_hash != self.head_hash:
            previous = f"seq {self.last_seq}" if self.last_seq else "the genesis value"
            self.broken = Break(
                row.seq,
                row.row_id,
                "broken_link",
                f"broken link: its prev_hash {row.prev_hash[:16]}... is not the hash of "
                f"{previous} ({self.head_hash[:16]}...); {previous} or this row was "
                "rewritten",
            )
            return self.broken
        if event_hash(row.prev_hash, row.payload) != row.hash:
            self.broken = Break(
                row.seq,
                row.row_id,
                "altered",
                "altered: its stored hash does not match its contents",
            )
            return self.broken
        self.count += 1
        self.last_seq = row.seq
        self.head_hash = row.hash
        return None


def verify_chain(rows: Iterable[ChainRow]) -> Break | None:
    """The first break of a chain given in ``seq`` order, or None if it is intact."""
    verifier = ChainVerifier()
    for row in rows:
        if verifier.feed(row) is not None:
            return verifier.broken
    return None


def spreadsheet_safe(value: Any) -> Any:
    """A cell that a spreadsheet shows as text rather than runs as a formula: strings
    starting with = + - @, a tab or a carriage return get a leading single quote.
    Other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
