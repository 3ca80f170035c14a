"""Reads that check the audit trail: the hash chain from seq 1 to the newest event, in
batches (memory stays flat whatever its length), against anchors of its head recorded
earlier outside the database (``audit.anchors``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from audit.models import HASHED_FIELDS, AuditEvent
from core.audit_chain import ChainRow, ChainVerifier


class TrailBroken(Exception):
    """The chain does not hold, or does not match an anchor: the message says where."""


@dataclass(frozen=True)
class TrailReport:
    count: int
    last_seq: int
    head_hash: str
    anchors_checked: int


def chain_rows(batch_size: int = 2000) -> Iterator[ChainRow]:
    last_seq = 0
    fields = ["id", "prev_hash", "hash", *HASHED_FIELDS]
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq").values(*fields)[:batch_size]
        )
        if not batch:
            return
        for row in batch:
            payload = {name: row[name] for name in HASHED_FIELDS}
            yield ChainRow(row["seq"], row["id"], row["prev_hash"], row["hash"], payload)
        last_seq = batch[-1]["seq"]


def trail_verify(
    *, anchors: Mapping[int, str] | None = None, batch_size: int = 2000
) -> TrailReport:
    """Walk the chain; ``anchors`` maps a seq to the hash it had when anchored.

    Raises TrailBroken at the first altered, missing or unlinked row, at an anchored
    seq whose hash differs, or when the chain ends before the newest anchor (its tail
    was cut off)."""
    anchors = dict(anchors or {})
    verifier = ChainVerifier()
    for row in chain_rows(max(1, batch_size)):
        broken = verifier.feed(row)
        if broken is not None:
            raise TrailBroken(
                f"Audit trail broken at {broken} ({verifier.count} events intact before it)."
            )
        expected = anchors.get(row.seq)
        if expected is not None and row.hash != expected:
            raise TrailBroken(
                f"Audit trail does not match the anchor: seq {row.seq} (id {row.row_id}) has "
                f"hash {row.hash}, the anchor says {expected}."
            )
    if anchors and max(anchors) > verifier.last_seq:
        raise TrailBroken(
            f"Audit trail does not reach the anchor: seq {max(anchors)} is missing (the chain "
            f"ends at seq {verifier.last_seq})."
        )
    return TrailReport(verifier.count, verifier.last_seq, verifier.head_hash, len(anchors))
