"""Check an auditor's evidence pack from the governance dashboard, offline.

    python3 verify.py                 # the unpacked folder this file is in
    python3 verify.py pack.zip        # or a pack as it was downloaded, or its folder
    python3 verify.py --expect-head 2209:3fa2...   # and the chain's head you hold

Standard library only, one file, Python 3.8 or newer: the dashboard puts this file in
every pack, so a machine that never saw the product checks it. It checks

- the manifest's own digest (``manifest_digest``: SHA-256 of the manifest without it);
- every file the manifest lists: present, same size, same SHA-256; no file unlisted;
- every evidence file against the SHA-256 its record holds (the obligation's
  ``evidence_sha256``, the scored dataset's ``sha256``, a signed report's
  ``signed_pdf_sha256``);
- every signature's manifest (a request's, a review's, an experiment's, a validation's
  or a validator's signature of a report): its SHA-256 recomputed equals the
  ``manifest_hash`` recorded when it was signed, and the signature's record
  (``records/reviews.signature.json`` or ``records/documents.documentsignature.json``)
  says the same;
- the audit-trail segment: ``seq`` without gaps, each event's ``prev_hash`` the hash of
  the one before, each hash recomputed from the event's fields
  (``sha256(prev_hash + "\\n" + canonical JSON)``), and the latest anchor's hash equal
  to the event's at its ``seq``;

and prints what it checked, one line each, naming the file or the row that fails.
Exit codes: 0 intact, 1 something failed, 2 not a pack (or bad usage).

What it cannot tell alone: whether this file was replaced by one that always says OK
(compare its SHA-256 with the one the dashboard shows for the pack), and whether the
anchor was written by the installation (its MAC needs the installation's key: compare
its seq and hash with a copy of the anchor log you hold, or pass ``--expect-head``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sys
import zipfile

FORMAT = "governance-evidence-pack/1"
MANIFEST = "manifest.json"
DIGEST_KEY = "manifest_digest"
EVENTS = "audit/events.jsonl"
ANCHOR = "audit/anchor.json"
SIGNATURES = "signatures.json"
CHUNK = 1024 * 1024
PYCACHE = re.compile(r"^__pycache__/verify\.[\w.-]+\.pyc$")
INTACT, FAILED, NOT_A_PACK = 0, 1, 2


def canonical(data) -> bytes:
    """The one serialisation that is hashed (keys sorted, no spaces, UTF-8)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def manifest_digest(manifest: dict) -> str:
    """The SHA-256 of a manifest without its own digest."""
    body = {key: value for key, value in manifest.items() if key != DIGEST_KEY}
    return hashlib.sha256(canonical(body)).hexdigest()


def signature_manifest_hash(manifest) -> str:
    """How the dashboard hashes what a signature binds (``core.promotion_rules``)."""
    return hashlib.sha256(
        json.dumps(manifest, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def event_hash(prev_hash: str, payload: dict) -> str:
    """How the audit trail chains an event to the one before it (``core.audit_chain``)."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(payload))
    return digest.hexdigest()


class Pack:
    """The files of a pack, from a ZIP or an unpacked folder."""

    def __init__(self, where: str):
        self.where = where
        self.zip = None
        if os.path.isdir(where):
            names = []
            for root, _dirs, files in os.walk(where):
                for name in files:
                    full = os.path.join(root, name)
                    names.append(os.path.relpath(full, where).replace(os.sep, "/"))
            # Python's own cache of this file, if someone imported it here: not the pack's.
            self.names = sorted(n for n in names if not PYCACHE.match(n))
            self.unsafe = []
        else:
            self.zip = zipfile.ZipFile(where)  # noqa: SIM115 - closed by close()
            listed = [n for n in self.zip.namelist() if not n.endswith("/")]
            self.names = sorted(set(listed))
            # Two entries of one name (unzip tools differ on which they show), or a name
            # that would land outside the folder it is unpacked in.
            self.unsafe = sorted(
                {n for n in listed if listed.count(n) > 1}
                | {n for n in listed if n.startswith(("/", "\\")) or ".." in n.split("/")}
                | {n for n in listed if "\\" in n or ":" in n.split("/")[0]}
            )

    def open(self, name: str):
        if self.zip is not None:
            return self.zip.open(name)
        return open(os.path.join(self.where, *name.split("/")), "rb")  # noqa: SIM115

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def hash_of(self, name: str):
        """(sha256, size) of one file, read in chunks."""
        digest, size = hashlib.sha256(), 0
        with self.open(name) as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    def json(self, name: str):
        with self.open(name) as handle:
            return json.load(io.TextIOWrapper(handle, encoding="utf-8"))

    def lines(self, name: str):
        with self.open(name) as handle:
            yield from io.TextIOWrapper(handle, encoding="utf-8")


class Report:
    def __init__(self, out):
        self.out = out
        self.failures = 0
        self.checks = 0

    def ok(self, message: str) -> None:
        self.checks += 1
        self.out.write(f"OK    {message}\n")

    def fail(self, message: str) -> None:
        self.checks += 1
        self.failures += 1
        self.out.write(f"FAIL  {message}\n")

    def note(self, message: str) -> None:
        self.out.write(f"NOTE  {message}\n")


def _check_manifest(pack: Pack, report: Report):
    if MANIFEST not in pack.names:
        report.fail(f"{MANIFEST}: not in the pack")
        return None
    try:
        manifest = pack.json(MANIFEST)
    except ValueError as exc:
        report.fail(f"{MANIFEST}: not readable JSON ({exc}): it was altered")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        report.fail(f"{MANIFEST}: not a manifest of format {FORMAT}")
        return None
    return manifest


def _check_digest(manifest: dict, report: Report) -> None:
    if manifest.get(DIGEST_KEY) != manifest_digest(manifest):
        report.fail(f"{MANIFEST}: its digest does not match its contents: it was altered")
    else:
        report.ok(f"{MANIFEST}: digest {manifest[DIGEST_KEY][:16]}... matches its contents")


def _check_files(pack: Pack, manifest: dict, report: Report, _expect=None) -> dict:
    """Every listed file's size and SHA-256; returns {path: sha256} of those that match."""
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    matching = {}
    bad = 0
    for path in sorted(listed):
        entry = listed[path]
        if path not in pack.names:
            report.fail(f"{path}: listed in the manifest, not in the pack")
            bad += 1
            continue
        try:
            sha256, size = pack.hash_of(path)
        except Exception as exc:  # a damaged entry (bad CRC, bad compressed data)
            report.fail(f"{path}: cannot be read ({type(exc).__name__}: {exc}): it was altered")
            bad += 1
            continue
        if sha256 != entry.get("sha256") or size != entry.get("size"):
            report.fail(
                f"{path}: SHA-256 {sha256[:16]}... ({size} bytes) is not the listed "
                f"{str(entry.get('sha256'))[:16]}... ({entry.get('size')} bytes): it was altered"
            )
            bad += 1
            continue
        matching[path] = sha256
    for path in pack.names:
        if path != MANIFEST and path not in listed:
            report.fail(f"{path}: in the pack but not in the manifest")
            bad += 1
    if not bad:
        report.ok(f"{len(listed)} files: each present, with the size and SHA-256 listed")
    return matching


def _check_evidence(_pack: Pack, manifest: dict, report: Report, _expect=None) -> None:
    evidence = [e for e in manifest.get("files", []) if e.get("kind") == "evidence"]
    bad = 0
    for entry in evidence:
        if entry.get("sha256") != entry.get("recorded_sha256"):
            report.fail(
                f"{entry['path']}: the file's SHA-256 {str(entry.get('sha256'))[:16]}... is not "
                f"the {str(entry.get('recorded_sha256'))[:16]}... that {entry.get('record')} "
                "holds: the stored file is not the one recorded"
            )
            bad += 1
    for missing in manifest.get("missing", []):
        report.fail(
            f"{missing.get('record')}: its file {missing.get('name')!r} was not in the store "
            f"when the pack was made ({missing.get('reason')})"
        )
        bad += 1
    if not bad:
        report.ok(f"{len(evidence)} evidence files: each the SHA-256 its record holds")


def _check_signatures(pack: Pack, manifest: dict, report: Report, _expect=None) -> None:
    if SIGNATURES not in pack.names:
        report.fail(f"{SIGNATURES}: not in the pack")
        return
    try:
        signatures = pack.json(SIGNATURES)
    except ValueError as exc:
        report.fail(f"{SIGNATURES}: not readable JSON ({exc}): it was altered")
        return
    recorded: dict = {}  # record label -> {pk: fields}

    def record_of(label: str) -> dict:
        if label not in recorded:
            recorded[label] = {}
            path = f"records/{label}.json"
            if path in pack.names:
                try:
                    recorded[label] = {row["pk"]: row["fields"] for row in pack.json(path)}
                except (ValueError, KeyError, TypeError) as exc:
                    report.fail(f"{path}: not readable ({exc}): it was altered")
        return recorded[label]

    bad = 0
    for signature in signatures:
        where = f"{SIGNATURES}: signature #{signature.get('id')} ({signature.get('printed_name')})"
        if signature_manifest_hash(signature.get("manifest")) != signature.get("manifest_hash"):
            report.fail(f"{where}: its manifest does not hash to its manifest_hash")
            bad += 1
            continue
        # A request's, a validation's... signature (reviews.signature) or a document's.
        label = str(signature.get("record") or "reviews.signature")
        if label not in ("reviews.signature", "documents.documentsignature"):
            report.fail(f"{where}: an unknown kind of signature record {label!r}")
            bad += 1
            continue
        row = record_of(label).get(signature.get("id"))
        if row is None or row.get("manifest_hash") != signature.get("manifest_hash"):
            report.fail(f"{where}: records/{label}.json does not hold the same manifest_hash")
            bad += 1
    if len(signatures) != manifest.get("signatures"):
        report.fail(
            f"{SIGNATURES}: {len(signatures)} signatures, the manifest says "
            f"{manifest.get('signatures')}"
        )
        bad += 1
    if not bad:
        report.ok(
            f"{len(signatures)} signatures: each manifest hashes to the manifest_hash "
            "recorded when it was signed"
        )


def _read_events(pack: Pack, report: Report, audit: dict):
    """Walk the chain segment line by line; returns (count, last_seq, head, hashes by seq
    of the anchor and the expected head) or None when it breaks."""
    want = {seq for seq in (audit.get("anchor_seq"), audit.get("expect_seq")) if seq}
    seen = {}
    count, last_seq, head = 0, None, audit.get("first_prev_hash")
    for number, line in enumerate(pack.lines(EVENTS), start=1):
        where = f"{EVENTS} line {number}"
        try:
            event = json.loads(line)
            seq, payload = int(event["seq"]), event["payload"]
            prev_hash, stored = event["prev_hash"], event["hash"]
        except (ValueError, KeyError, TypeError):
            report.fail(f"{where}: not an audit event: it was altered")
            return None
        if last_seq is not None and seq != last_seq + 1:
            gap = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seq {last_seq + 1}..{seq - 1}"
            report.fail(
                f"{where}: audit event {gap} is missing (the chain goes from seq {last_seq} "
                f"to seq {seq}): a row was removed"
            )
            return None
        if payload.get("seq") != seq:
            report.fail(f"{where}: seq {seq} carries the fields of seq {payload.get('seq')}")
            return None
        if prev_hash != head:
            report.fail(
                f"{where}: audit event seq {seq}: its prev_hash is not the hash of the event "
                "before it: a row was rewritten or removed"
            )
            return None
        if event_hash(prev_hash, payload) != stored:
            report.fail(
                f"{where}: audit event seq {seq}: its hash does not match its fields: it was "
                "altered"
            )
            return None
        if seq in want:
            seen[seq] = stored
        count, last_seq, head = count + 1, seq, stored
    return count, last_seq, head, seen


def _check_audit(pack: Pack, manifest: dict, report: Report, expect) -> None:
    audit = dict(manifest.get("audit") or {})
    if EVENTS not in pack.names:
        report.fail(f"{EVENTS}: not in the pack")
        return
    anchor = None
    if ANCHOR in pack.names:
        try:
            anchor = pack.json(ANCHOR)
        except ValueError as exc:
            report.fail(f"{ANCHOR}: not readable JSON ({exc}): it was altered")
    audit["anchor_seq"] = anchor.get("seq") if isinstance(anchor, dict) else None
    audit["expect_seq"] = expect[0] if expect else None
    walked = _read_events(pack, report, audit)
    if walked is None:
        return
    count, last_seq, head, seen = walked
    if (count, last_seq, head) != (audit.get("events"), audit.get("last_seq"), audit.get("head")):
        report.fail(
            f"{EVENTS}: {count} events up to seq {last_seq}, the manifest says "
            f"{audit.get('events')} up to seq {audit.get('last_seq')}: events were removed"
        )
        return
    first = audit.get("first_seq")
    report.ok(
        f"audit trail seq {first}..{last_seq}: {count} events, every link and hash "
        f"recomputed; head {head[:16]}..."
    )
    if isinstance(anchor, dict):
        if seen.get(anchor.get("seq")) == anchor.get("hash"):
            report.ok(
                f"latest anchor (seq {anchor['seq']}, {anchor.get('at')}): the chain's hash "
                "there is the anchored one"
            )
            report.note(
                "the anchor's MAC needs the installation's key: compare its seq and hash "
                "with the anchor log you hold"
            )
        else:
            report.fail(
                f"{ANCHOR}: the chain's hash at seq {anchor.get('seq')} is not the anchored "
                f"{str(anchor.get('hash'))[:16]}...: the trail was rewritten"
            )
    else:
        report.note("no anchor of the chain's head had been written when the pack was made")
    if expect:
        if seen.get(expect[0]) == expect[1]:
            report.ok(f"the head you hold (seq {expect[0]}) is in the chain with that hash")
        else:
            report.fail(f"the chain's hash at seq {expect[0]} is not the {expect[1][:16]}... given")


def verify(where: str, out=None, expect=None) -> int:
    """Check the pack at ``where`` and print each check to ``out``; the exit code."""
    out = out or sys.stdout
    try:
        pack = Pack(where)
    except Exception as exc:  # not a ZIP, not readable, a damaged central directory
        out.write(f"FAIL  {where}: not a pack ({exc})\n")
        return NOT_A_PACK
    report = Report(out)
    try:
        return _verify(pack, report, out, expect)
    finally:
        pack.close()


def _verify(pack: Pack, report: Report, out, expect) -> int:
    for name in pack.unsafe:
        report.fail(f"{name}: a duplicated entry, or a name outside the pack's folder")
    try:
        manifest = _check_manifest(pack, report)
    except Exception as exc:  # a damaged archive: say so, never a traceback
        report.fail(f"{MANIFEST}: cannot be read ({type(exc).__name__}: {exc}): it was altered")
        manifest = None
    if manifest is None:
        if MANIFEST not in pack.names:
            return NOT_A_PACK
        out.write(f"RESULT: NOT INTACT: {report.failures} of {report.checks} checks failed\n")
        return FAILED
    scope = manifest.get("scope") if isinstance(manifest.get("scope"), dict) else {}
    by = manifest.get("generated_by") if isinstance(manifest.get("generated_by"), dict) else {}
    out.write(
        f"Evidence pack of {scope.get('label', 'an unnamed scope')}, made "
        f"{manifest.get('generated_at')} by {by.get('name')}\n"
    )
    try:
        _check_digest(manifest, report)
    except Exception as exc:
        report.fail(f"{MANIFEST}: its digest cannot be computed ({type(exc).__name__}): altered")
    for check in (_check_files, _check_evidence, _check_signatures, _check_audit):
        try:
            check(pack, manifest, report, expect)
        except Exception as exc:  # a damaged archive or structure: FAIL, not a traceback
            report.fail(f"the pack was altered ({type(exc).__name__}: {exc})")
    if report.failures:
        out.write(f"RESULT: NOT INTACT: {report.failures} of {report.checks} checks failed\n")
        return FAILED
    out.write(f"RESULT: intact: {report.checks} checks passed\n")
    return INTACT


def _expected_head(text: str):
    seq, _, sha = text.partition(":")
    if not seq.isdigit() or len(sha) != 64:
        raise argparse.ArgumentTypeError("give SEQ:HASH, e.g. 2209:3fa2... (64 hex digits)")
    return int(seq), sha.lower()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an evidence pack, offline.")
    parser.add_argument(
        "pack",
        nargs="?",
        default=os.path.dirname(os.path.abspath(__file__)),
        help="the pack's ZIP or its unpacked folder (default: the folder of this file)",
    )
    parser.add_argument(
        "--expect-head",
        type=_expected_head,
        metavar="SEQ:HASH",
        help="an audit event's seq and hash you hold (e.g. from the anchor log)",
    )
    args = parser.parse_args(argv)
    return verify(args.pack, expect=args.expect_head)


if __name__ == "__main__":
    sys.exit(main())
