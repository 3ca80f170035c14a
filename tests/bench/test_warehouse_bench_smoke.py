"""The warehouse benchmark's --quick mode runs against a real PostgreSQL (issue 17).

No timing is asserted: the script builds its table, computes the counts both ways
(pushed down, and exported to Parquet then read as a file), exits non-zero if they
differ, and writes a results JSON with both medians, the machine and the load."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fairness.warehouse_data import postgres_url

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "warehouse_bench.py"


def test_quick_run_computes_equal_counts_both_ways(tmp_path):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL here (set WAREHOUSE_TEST_POSTGRES_URL, as CI's DATABASE_URL is)")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--url", url, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "warehouse_bench_20000.json").read_text())
    assert report["equal_counts"] is True and report["rows"] == 20000
    assert set(report["medians"]) == {"pushdown", "export_parquet_file"}
    assert report["machine"] and len(report["load_average_before"]) == 3
