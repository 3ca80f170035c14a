"""Speed and scale of drift summaries (issue #6), measured side by side in one run.

On seeded synthetic data (20 numeric + 5 categorical columns; a reference and a current
sample with injected drift in 3 numeric and 1 categorical column):

1. compute: our reference profile + window comparison (`core.drift`: PSI over
   reference deciles, exact KS / chi-square with a minimum effect) and our reproduction
   of Evidently's default tests from the same profiles (`core.drift_evidently`),
   against Evidently's default data-drift report on the same Parquet files (run in its
   own venv, `.venv-evidently`); per-column verdicts compared;
2. a year of daily windows: one reference profile reused for 365 windows;
3. memory: peak RSS (VmHWM) of a child process that builds a reference profile from a
   Parquet file read in batches, at two sizes.

Run `python bench/drift_bench.py --help`; `--quick` is a smoke run. Figures of a full run
are recorded in docs/benchmarks.md; results go to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bias_bench import machine  # noqa: E402
from core import drift  # noqa: E402
from core.drift_evidently import evidently_default_verdicts  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "out"
RUNNER = ROOT / "tests" / "core" / "evidently_runner.py"
EVIDENTLY_PYTHON = Path(
    os.environ.get("EVIDENTLY_PYTHON", ROOT / ".venv-evidently" / "bin" / "python")
)
NUMERIC = [f"num{i}" for i in range(20)]
CATEGORICAL = [f"cat{i}" for i in range(5)]
DRIFTED = {"num0", "num1", "num2", "cat0"}
TARGET_RATIO = 30.0
TARGET_YEAR_SECONDS = 60.0


def columns(n: int, seed: int, drifted: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        shift = drifted and name in DRIFTED
        kind = i % 4
        if kind == 0:
            x = rng.normal(0.3 if shift else 0.0, 1.0, n)
        elif kind == 1:
            x = rng.lognormal(10.0, 0.6, n) * (1.3 if shift else 1.0)
        elif kind == 2:
            x = np.abs(rng.normal(0, 1, n)) + (0.12 if shift else 0.0)
        else:
            x = rng.poisson(3.0, n).astype(np.float64)
        out[name] = x
    for i, name in enumerate(CATEGORICAL):
        k = 3 + i
        p = np.arange(1, k + 1, dtype=float)
        p /= p.sum()
        if drifted and name in DRIFTED:
            p = p[::-1]
        out[name] = rng.choice(np.array([f"c{j}" for j in range(k)], dtype=object), n, p=p)
    return out


def write_parquet(path: Path, cols: dict, row_group: int = 250_000) -> None:
    table = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in cols.items()})
    pq.write_table(table, path, row_group_size=row_group)


def timed(fn, repeats: int):
    best, value = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def profile_from_parquet(path: Path, batch_rows: int) -> drift.Profile:
    """A reference profile built batch by batch (memory bounded by a batch plus the
    profile), merged exactly."""
    parts = []
    # pre_buffer=False: otherwise pyarrow buffers the whole file for iter_batches.
    for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=batch_rows):
        cols = {
            name: (
                batch.column(name).to_numpy(zero_copy_only=False)
                if name in NUMERIC
                else np.asarray(batch.column(name).to_pylist(), dtype=object)
            )
            for name in NUMERIC + CATEGORICAL
        }
        parts.append(drift.profile_build(cols, numeric=NUMERIC, categorical=CATEGORICAL))
        if len(parts) >= 2:  # merge as we go: one capped profile plus one batch in memory
            parts = [drift.profile_merge(parts)]
    return drift.profile_merge(parts) if len(parts) > 1 else parts[0]


def child_profile(path: str, batch_rows: int) -> None:
    t0 = time.perf_counter()
    profile = profile_from_parquet(Path(path), batch_rows)
    seconds = time.perf_counter() - t0
    peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    size = len(json.dumps(profile.to_dict()))
    print(json.dumps({"seconds": seconds, "peak_rss_bytes": peak, "profile_json_bytes": size}))


def run_evidently(ref: Path, cur: Path, out: Path) -> dict | None:
    if not EVIDENTLY_PYTHON.exists():
        return None
    settings = out / "drift_settings.json"
    settings.write_text(
        json.dumps(
            {
                "numerical": NUMERIC,
                "categorical": CATEGORICAL,
                "runs": [{"name": "default"}, {"name": "preset", "api": "report"}],
            }
        )
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(EVIDENTLY_PYTHON), str(RUNNER), str(ref), str(cur), str(settings)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    runs = json.loads(proc.stdout)["runs"]
    legacy, preset = runs["default"], runs["preset"]
    return {
        "report_seconds": preset["seconds"],
        "legacy_table_seconds": legacy["seconds"],
        "wall_seconds": wall,
        "columns": preset["columns"],
        "legacy_columns": legacy["columns"],
    }


def memory_check(args) -> list[dict]:
    """Peak RSS of a child building a reference profile from Parquet in batches."""
    memory = []
    for size in [int(float(s)) for s in args.memory_rows.split(",")]:
        path = args.out / f"drift_mem_{size}.parquet"
        cols = columns(size, 7, False)
        # Full-precision continuous values: the worst case for a profile (every value
        # distinct), which past MAX_DISTINCT pools them and stays bounded.
        write_parquet(path, cols)
        del cols
        proc = subprocess.run(
            [sys.executable, __file__, "--child-profile", str(path), "200000"],
            capture_output=True,
            text=True,
            check=True,
        )
        memory.append({"rows": size, **json.loads(proc.stdout.strip().splitlines()[-1])})
        path.unlink()
    print(json.dumps(memory, indent=1), flush=True)
    return memory


def write_results(results: dict, out: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = out / f"drift_bench-{stamp}.json"
    target.write_text(json.dumps(results, indent=1))
    print(f"results: {target}")
    return target


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6, help="reference and current rows")
    parser.add_argument("--memory-rows", default="1e6,1e7", help="sizes for the memory check")
    parser.add_argument("--year-rows", type=int, default=5000, help="rows per daily window")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes")
    parser.add_argument("--memory-only", action="store_true", help="only the memory check")
    parser.add_argument(
        "--child-profile", nargs=2, metavar=("PATH", "BATCH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child_profile:
        child_profile(args.child_profile[0], int(args.child_profile[1]))
        return Path(args.child_profile[0])
    if args.quick:
        args.rows, args.memory_rows, args.year_rows, args.repeats = 20_000, "2e4,4e4", 200, 1
    n = int(args.rows)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine(), "started": dt.datetime.now(dt.UTC).isoformat()}
    print(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores", flush=True)

    if args.memory_only:
        results["memory"] = memory_check(args)
        return write_results(results, args.out)

    # 1. Compute, side by side.
    ref_cols, cur_cols = columns(n, 1, False), columns(n, 2, True)
    ref_path, cur_path = args.out / "drift_ref.parquet", args.out / "drift_cur.parquet"
    write_parquet(ref_path, ref_cols)
    write_parquet(cur_path, cur_cols)
    t_profile, ref = timed(
        lambda: drift.profile_build(ref_cols, numeric=NUMERIC, categorical=CATEGORICAL),
        args.repeats,
    )
    t_window, cur = timed(
        lambda: drift.profile_build(cur_cols, numeric=NUMERIC, categorical=CATEGORICAL),
        args.repeats,
    )
    t_compare, ours = timed(lambda: drift.drift_compare(ref, cur), args.repeats)
    t_evcompat, evcompat = timed(lambda: evidently_default_verdicts(ref, cur), args.repeats)
    compute = {
        "rows": n,
        "columns": len(NUMERIC) + len(CATEGORICAL),
        "ours_profile_seconds": t_profile,
        "ours_window_profile_seconds": t_window,
        "ours_compare_seconds": t_compare,
        "ours_evidently_tests_seconds": t_evcompat,
        "ours_total_seconds": t_profile + t_window + t_compare,
        "ours_total_evidently_tests_seconds": t_profile + t_window + t_evcompat,
        "ours_drifted": sorted(ours["drifted"]),
        "injected": sorted(DRIFTED),
    }
    evidently = None if args.skip_evidently else run_evidently(ref_path, cur_path, args.out)
    if evidently:
        theirs, legacy = evidently["columns"], evidently["legacy_columns"]
        same = [c for c in theirs if bool(theirs[c]["drift"]) == bool(evcompat[c]["drift"])]
        same_legacy = [c for c in legacy if bool(legacy[c]["drift"]) == bool(evcompat[c]["drift"])]
        ours_same = [c for c in theirs if bool(theirs[c]["drift"]) == (c in ours["drifted"])]
        ours_total = compute["ours_total_seconds"]
        compute.update(
            evidently_report_seconds=evidently["report_seconds"],
            evidently_legacy_table_seconds=evidently["legacy_table_seconds"],
            evidently_wall_seconds=evidently["wall_seconds"],
            evidently_tests={c: theirs[c]["stattest"] for c in theirs},
            evidently_drifted=sorted(c for c in theirs if theirs[c]["drift"]),
            evidently_tests_reproduced_same=f"{len(same)}/{len(theirs)} (report), "
            f"{len(same_legacy)}/{len(legacy)} (legacy table)",
            verdicts_identical=len(ours_same) == len(theirs) == len(same),
            verdicts_same=f"{len(ours_same)}/{len(theirs)}",
            ratio=evidently["report_seconds"] / ours_total,
            ratio_evidently_tests=evidently["report_seconds"]
            / compute["ours_total_evidently_tests_seconds"],
            ratio_legacy_table=evidently["legacy_table_seconds"] / ours_total,
            target_ratio=TARGET_RATIO,
        )
        compute["met"] = compute["ratio"] >= TARGET_RATIO and compute["verdicts_identical"]
    results["compute"] = compute
    print(json.dumps(compute, indent=1), flush=True)

    # 2. A year of daily windows against one reference profile.
    year_ref = drift.profile_build(
        columns(max(args.year_rows * 20, 10_000), 3, False),
        numeric=NUMERIC,
        categorical=CATEGORICAL,
    )
    t0 = time.perf_counter()
    drifted_days = 0
    for day in range(365):
        window = columns(args.year_rows, 1000 + day, day >= 330)
        out = drift.drift_compare(year_ref, window)
        drifted_days += bool(out["drifted"])
    year_seconds = time.perf_counter() - t0
    results["year"] = {
        "windows": 365,
        "rows_per_window": args.year_rows,
        "seconds": year_seconds,
        "includes": "generating each window's data, profiling it and comparing all 25 columns",
        "days_with_drift": drifted_days,
        "target_seconds": TARGET_YEAR_SECONDS,
        "met": year_seconds < TARGET_YEAR_SECONDS,
    }
    print(json.dumps(results["year"], indent=1), flush=True)

    # 3. Memory of building a reference profile in batches.
    results["memory"] = memory_check(args)
    for p in (ref_path, cur_path):
        p.unlink(missing_ok=True)
    return write_results(results, args.out)


if __name__ == "__main__":
    main()
