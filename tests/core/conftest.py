"""Fixtures of the core tests: Evidently's interpreter (a venv of its own, see the
Makefile), shared by the two Evidently agreement modules."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVIDENTLY_PYTHON = Path(
    os.environ.get("EVIDENTLY_PYTHON", ROOT / ".venv-evidently" / "bin" / "python")
)
REQUIRED = os.environ.get("REQUIRE_EVIDENTLY") == "1"


@pytest.fixture(scope="session")
def evidently_python():
    if not EVIDENTLY_PYTHON.exists():
        reason = (
            f"Evidently's interpreter {EVIDENTLY_PYTHON} does not exist: build it with "
            "`sh scripts/venv.sh .venv-evidently requirements-evidently.txt` "
            "(or set EVIDENTLY_PYTHON)"
        )
        if REQUIRED:
            pytest.fail(reason + "; REQUIRE_EVIDENTLY=1")
        pytest.skip(reason)
    return str(EVIDENTLY_PYTHON)
