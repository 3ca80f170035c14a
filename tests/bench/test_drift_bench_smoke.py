"""The drift benchmark's --quick mode runs end to end and records every figure (#6).

No timing is asserted; the checks are that the script writes its results JSON with the
three sections, that the injected drift is what our tests find, and that (when the
Evidently venv exists) our reproduction of Evidently's default tests gives its verdicts.
"""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "drift_bench.py"
EVIDENTLY = Path(__file__).resolve().parents[2] / ".venv-evidently" / "bin" / "python"


def test_quick_run_writes_every_section(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [written] = list(tmp_path.glob("drift_bench-*.json"))
    results = json.loads(written.read_text())
    assert set(results) >= {"machine", "compute", "year", "memory"}
    compute = results["compute"]
    assert compute["ours_drifted"] == compute["injected"]
    if EVIDENTLY.exists():
        assert compute["verdicts_identical"] is True
    assert results["year"]["windows"] == 365
    assert [m["rows"] for m in results["memory"]] == [20_000, 40_000]
    assert not list(tmp_path.glob("*.parquet"))  # data files removed
