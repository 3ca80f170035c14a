"""Helpers of the evidence-pack tests: build a pack as the worker does, unpack it, and
run the verifier on it (in this process, or as a program on its own)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from core import evidence_verifier
from documents import services
from documents.models import EvidencePack

# The interpreter a machine that never saw the product has: the system's, not the venv's.
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"


def build(user, **scope) -> EvidencePack:
    """Ask for a pack and build it as the worker would."""
    pack = services.evidence_pack_request(user=user, **scope)
    services.evidence_pack_build(pack_id=pack.pk)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.DONE, pack.error
    return pack


def unpack(pack: EvidencePack, where: Path) -> Path:
    with pack.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        archive.extractall(where)
    return where


def check(folder: Path, **kwargs) -> tuple[int, str]:
    out = io.StringIO()
    code = evidence_verifier.verify(str(folder), out=out, **kwargs)
    return code, out.getvalue()


def run_offline(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python3 verify.py ...`` with the system's Python, isolated (-I: no site
    packages, no PYTHONPATH, no current folder on the path), outside the project."""
    return subprocess.run(
        [SYSTEM_PYTHON, "-I", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def flip_one_byte(path: Path) -> None:
    """Change one byte in the middle of a file (an ASCII letter or digit stays ASCII)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for index in list(range(middle, len(data))) + list(range(0, middle)):
        if chr(data[index]).isalnum():
            data[index] ^= 0x01
            break
    else:
        data[middle] ^= 0x01
    path.write_bytes(bytes(data))


def events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "audit/events.jsonl").read_text().splitlines()]


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())
