"""The bias-summary benchmark's --quick mode runs and records every figure (#5).

No timing is asserted: the test checks that the script runs end to end, writes a results
JSON with every column and section, and that the checks it makes along the way hold.
"""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bias_bench.py"
COLUMNS = {
    "section",
    "case",
    "rows",
    "tool",
    "seconds",
    "relative",
    "peak_rss_mib",
    "target",
    "met",
    "detail",
}


def test_quick_run_writes_results_with_every_column(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    written = list(tmp_path.glob("bias_bench-*.json"))
    assert len(written) == 1
    assert f"results: {written[0]}" in done.stdout
    results = json.loads(written[0].read_text())

    machine = results["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["ram_bytes"] > 0
    assert (
        machine["python"] and machine["versions"]["fairlearn"] and machine["versions"]["aequitas"]
    )

    table = results["table"]
    assert table and all(set(row) == COLUMNS for row in table)
    assert {row["section"] for row in table} == {"compute", "end_to_end", "memory", "split"}
    compute = {(row["case"], row["tool"]) for row in table if row["section"] == "compute"}
    for tool in ("ours (from codes)", "ours (from strings)", "aequitas", "fairlearn"):
        assert ("race", tool) in compute
    assert ("race, sex, race x sex", "ours (from codes) + ROC AUC") in compute
    assert {row["case"] for row in table if row["section"] == "end_to_end"} == {"parquet", "csv"}
    assert all(row["seconds"] > 0 for row in table if row["section"] != "memory")

    # every target is judged: two compute ratios, Parquet and CSV end to end, peak memory
    targets = results["targets"]
    assert len(targets) == 5 and all(isinstance(t["met"], bool) for t in targets)
    assert {t["section"] for t in targets} == {"compute", "end_to_end", "memory"}

    # the three tools agree on the rates they were timed computing
    assert results["compute"][0]["max_abs_diff_vs_references"] < 1e-12
    # the same rows read from CSV and from Parquet give the same summary
    assert results["end_to_end"][0]["csv_equals_parquet"] is True
    # two processes over halves of the row groups merge to the whole file's counts
    assert results["split"]["merged_equals_whole"] is True
    memory = {(m["what"], m["rows"]): m for m in results["memory"]}
    assert set(memory) == {
        ("python + imports only", 0),
        ("summarise Parquet", 20_000),
        ("summarise CSV", 20_000),
        ("summarise Parquet", 100_000),
    }
    assert all(m["peak_rss_bytes"] > 0 and m["json_bytes"] >= 0 for m in memory.values())
    assert memory[("summarise Parquet", 100_000)]["json_bytes"] > 0
    # generated data files are removed without --keep
    assert not list(tmp_path.glob("*.parquet")) and not list(tmp_path.glob("*.csv"))
