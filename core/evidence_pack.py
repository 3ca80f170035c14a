"""Writing an auditor's evidence pack: a ZIP streamed to a file, each entry hashed as it
is written, and a manifest listing them (no Django imports).

Memory stays bounded whatever the pack holds: every entry is written in chunks (a
record set row by row, an evidence file 1 MiB at a time, the audit trail event by
event) and only the list of entries (path, size, SHA-256) is kept. The formats the
verifier checks (the manifest's digest, the audit chain, the signatures' hashes) are
defined once, in ``core.evidence_verifier``, the file the pack carries as
``verify.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core import evidence_verifier
from core.audit_chain import jsonable

FORMAT = evidence_verifier.FORMAT
VERIFIER_SOURCE = Path(evidence_verifier.__file__)
CHUNK = evidence_verifier.CHUNK
BUFFER = 256 * 1024

README = """\
Evidence pack of {label}
Made {generated_at} by {generated_by}.

What is here
  manifest.json         what the pack holds: every file with its size and SHA-256, the
                        scope, the record counts, the audit-trail segment; its own
                        digest (manifest_digest) covers the rest of it
  records/              every record of the scope, one JSON file per kind
                        (app_label.model), rows as {{"model", "pk", "fields"}}
  people.json           the people the records name (id, username, full name)
  evidence/             every evidence file, as stored, with the SHA-256 its record holds
  signatures.json       every electronic signature with what it bound (its manifest)
                        and that manifest's SHA-256
  audit/events.jsonl    the audit trail from seq {first_seq} to seq {last_seq}, one
                        event a line, with the chain's hashes; events of the scope
                        are marked "in_scope" (the chain is one sequence, so the
                        segment also holds the events of other objects in between)
  audit/anchor.json     the latest anchor of the chain's head (keyed with the
                        installation's secret; compare it with the anchor log you hold)
  verify.py             the checker: Python 3.8 or newer, standard library only

How to check it, on any machine
  python3 verify.py                (in this folder, once unpacked)
  python3 verify.py pack.zip       (or on the ZIP as downloaded)
It recomputes every file's SHA-256, every signature manifest's hash and every link
and hash of the audit chain, prints what it checked and exits 0 only if all hold.
Compare verify.py's SHA-256 ({verifier_sha256}) with the one the dashboard
shows for this pack before you trust what it prints.

What the checker cannot tell alone: someone who rewrites a file and recomputes every
hash and the manifest's digest makes a pack that checks as intact. The pack you trust
is the one whose SHA-256 is the one the dashboard shows for it (and its audit trail
records, event "evidence_pack.generated"); the chain's head is the one in the anchor log
kept outside the database (compare, or pass --expect-head SEQ:HASH).
"""


@dataclass
class Entry:
    path: str
    kind: str
    sha256: str = ""
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "sha256": self.sha256, "size": self.size} | (
            self.extra
        )


class _Hashing:
    """A writable ZIP entry that hashes and counts what goes through it."""

    def __init__(self, raw: IO[bytes], entry: Entry):
        self.raw, self.entry, self.digest = raw, entry, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.raw.write(data)
        self.digest.update(data)
        self.entry.size += len(data)


def _native(value: Any) -> Any:
    """What JSON has no type for, as the audit trail writes it (times in UTC ISO form,
    decimals and UUIDs as strings); JSON values themselves are left exactly as they are
    (a stored ``0.0`` stays ``0.0``: a signature's manifest hash covers it)."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return jsonable(value)


def json_line(data: Any) -> bytes:
    """One row as canonical JSON (keys sorted, UTF-8). Numbers, strings and nested JSON
    are written as they are; only values JSON cannot hold are converted."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_native
    ).encode("utf-8")


class PackWriter:
    """``with PackWriter(file, moment) as pack: pack.add_...; pack.finish(body)``."""

    def __init__(self, fileobj: IO[bytes], moment: dt.datetime):
        self.zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.date_time = moment.astimezone(dt.UTC).timetuple()[:6]
        self.entries: list[Entry] = []

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def _info(self, path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def add_chunks(self, path: str, chunks: Iterable[bytes], *, kind: str, **extra: Any) -> Entry:
        """An entry written chunk by chunk; returns it with its size and SHA-256."""
        entry = Entry(path=path, kind=kind, extra=dict(extra))
        with self.zip.open(self._info(path), "w", force_zip64=True) as raw:
            sink = _Hashing(raw, entry)
            pending: list[bytes] = []
            size = 0
            for chunk in chunks:  # small rows gathered: fewer, larger compressor calls
                pending.append(chunk)
                size += len(chunk)
                if size >= BUFFER:
                    sink.write(b"".join(pending))
                    pending, size = [], 0
            if pending:
                sink.write(b"".join(pending))
        entry.sha256 = sink.digest.hexdigest()
        self.entries.append(entry)
        return entry

    def add_bytes(self, path: str, data: bytes, *, kind: str, **extra: Any) -> Entry:
        return self.add_chunks(path, [data], kind=kind, **extra)

    def add_json(self, path: str, data: Any, *, kind: str) -> Entry:
        return self.add_bytes(path, json_line(data) + b"\n", kind=kind)

    def add_json_array(self, path: str, rows: Iterable[Any], *, kind: str) -> Entry:
        """A JSON array written a row a line (valid JSON, streamed)."""
        return self.add_chunks(path, _array(rows), kind=kind)

    def add_json_lines(
        self, path: str, rows: Iterable[Any], *, kind: str, plain: bool = False
    ) -> Entry:
        """One JSON document a line; ``plain``: the rows hold only JSON types already
        (str, int, float, bool, None, lists, dicts), so they are not converted again."""
        encode = evidence_verifier.canonical if plain else json_line
        return self.add_chunks(path, (encode(row) + b"\n" for row in rows), kind=kind)

    def add_file(self, path: str, handle: IO[bytes], *, kind: str, **extra: Any) -> Entry:
        return self.add_chunks(path, _read(handle), kind=kind, **extra)

    def add_verifier(self, label: str, body: Mapping[str, Any]) -> str:
        """verify.py and README.txt; returns verify.py's SHA-256."""
        source = VERIFIER_SOURCE.read_bytes()
        entry = self.add_bytes("verify.py", source, kind="verifier")
        audit = body.get("audit") or {}
        readme = README.format(
            label=label,
            generated_at=body.get("generated_at"),
            generated_by=(body.get("generated_by") or {}).get("name"),
            first_seq=audit.get("first_seq"),
            last_seq=audit.get("last_seq"),
            verifier_sha256=entry.sha256,
        )
        self.add_bytes("README.txt", readme.encode("utf-8"), kind="readme")
        return entry.sha256

    def finish(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Write manifest.json (the body, the entries, the digest) and return it."""
        manifest = dict(jsonable(dict(body)))
        manifest["format"] = FORMAT
        manifest["files"] = [entry.as_dict() for entry in self.entries]
        manifest[evidence_verifier.DIGEST_KEY] = evidence_verifier.manifest_digest(manifest)
        data = json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")
        with self.zip.open(self._info(evidence_verifier.MANIFEST), "w") as raw:
            raw.write(data)
        return manifest


def _array(rows: Iterable[Any]) -> Iterator[bytes]:
    yield b"["
    first = True
    for row in rows:
        yield (b"\n" if first else b",\n") + json_line(row)
        first = False
    yield b"\n]\n"


def _read(handle: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        yield chunk


def safe_part(text: str, *, fallback: str = "file") -> str:
    """A file name usable inside a ZIP on every system: no folders, no control or
    reserved characters, at most 120 characters (the extension kept)."""
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if c.isalnum() or c in "._-+" else "_" for c in name).strip("._")
    if not name:
        return fallback
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:120]
    return name
