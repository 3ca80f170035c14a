"""The pipelines' gate client as the dashboard serves it (issue 17).

The client is ``governance_gate/client.py``: one file, standard library only, so a
pipeline on a closed network downloads it from the dashboard itself and runs it with
any Python 3.8+. Pages and the API serve the same bytes; the gate log page shows their
SHA-256 so a pipeline can pin it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import governance_gate.client

FILENAME = "governance_gate.py"
CONTENT_TYPE = "text/x-python; charset=utf-8"


@dataclass(frozen=True)
class GateClientFile:
    content: bytes
    sha256: str
    version: str
    filename: str = FILENAME


@cache
def gate_client_file() -> GateClientFile:
    """The client's source, its SHA-256 and version (read once per process: the file
    changes only with a release)."""
    content = Path(governance_gate.client.__file__).read_bytes()
    return GateClientFile(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        version=governance_gate.client.__version__,
    )
