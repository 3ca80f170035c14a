"""Anchors of the audit chain's head, as pure functions (no Django imports).

An anchor says "at time ``at`` the event ``seq`` had hash ``hash``", with a keyed MAC
(HMAC-SHA256) over those three values made with a secret that is not in the database.
Kept outside the database (a log file, an e-mail), it catches what the hash chain alone
cannot: the newest events deleted, or every hash re-computed from some row onward.
Without the key, nobody can write an anchor that verifies.

One anchor is one line of JSON: ``{"v": 1, "seq": 42, "hash": "...", "at": "...",
"mac": "..."}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = 1
_DOMAIN = b"governance-audit-anchor/v1"


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str
    mac: str

    def line(self) -> str:
        return json.dumps(
            {"v": VERSION, "seq": self.seq, "hash": self.hash, "at": self.at, "mac": self.mac},
            sort_keys=True,
        )


class AnchorError(ValueError):
    """An anchor line that cannot be read, or whose MAC does not verify."""


def anchor_mac(key: bytes, *, seq: int, hash: str, at: str) -> str:  # noqa: A002
    message = b"\n".join([_DOMAIN, str(seq).encode(), hash.encode("ascii"), at.encode()])
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def make_anchor(key: bytes, *, seq: int, hash: str, at: str) -> Anchor:  # noqa: A002
    return Anchor(seq=seq, hash=hash, at=at, mac=anchor_mac(key, seq=seq, hash=hash, at=at))


def parse_line(line: str) -> Anchor:
    try:
        data = json.loads(line)
        anchor = Anchor(
            seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]), mac=str(data["mac"])
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorError(f"unreadable anchor: {line[:80]!r}") from exc
    if data.get("v") != VERSION or anchor.seq < 1 or len(anchor.hash) != 64:
        raise AnchorError(f"unreadable anchor: {line[:80]!r}")
    return anchor


def check(key: bytes, anchor: Anchor) -> None:
    """Raise AnchorError unless the anchor's MAC was made with ``key``."""
    expected = anchor_mac(key, seq=anchor.seq, hash=anchor.hash, at=anchor.at)
    if not hmac.compare_digest(expected, anchor.mac):
        raise AnchorError(
            f"the anchor of seq {anchor.seq} made at {anchor.at} does not verify with the "
            "anchor key: it was not written by this installation"
        )


def read_anchors(key: bytes, lines: Iterable[str]) -> dict[int, Anchor]:
    """Every anchor of a log, checked, by seq. Raises AnchorError on the first line
    that is unreadable or forged, or on two anchors of one seq with different hashes."""
    anchors: dict[int, Anchor] = {}
    for line in lines:
        if not line.strip():
            continue
        anchor = parse_line(line)
        check(key, anchor)
        known = anchors.get(anchor.seq)
        if known is not None and known.hash != anchor.hash:
            raise AnchorError(f"two anchors of seq {anchor.seq} disagree on its hash")
        anchors[anchor.seq] = anchor
    return anchors
