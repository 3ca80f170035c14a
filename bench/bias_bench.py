"""Speed and scale of bias summaries (issue #5), measured side by side in one run.

Three questions, on seeded synthetic data (5-level race, 2-level sex, outcome, 0/1
prediction and a score, with group differences in base rate, TPR and FPR):

1. compute: in memory, the same metrics and groups by `core.fairness`
   (accumulate + summarise + JSON), by Aequitas (Group.get_crosstabs + Bias disparities
   against a reference group) and by fairlearn (MetricFrame + difference/ratio);
2. end to end: from a stored Parquet or CSV file to the JSON the Celery task stores,
   through the worker's own functions (`fairness.services.bias_counts_read` +
   `summarise_counts` + the JSON of result and counts), against pyarrow reading only the
   needed columns of the same file, plainly and in its fastest mode (dictionary-encoded
   text for Parquet, the column types ours asks for in CSV): the 2x target is judged
   against the fastest;
3. memory: peak RSS of a child process that summarises a 10M-row and a 100M-row Parquet
   file (the reader streams batches, partial counts merge, so memory must stay flat),
   and two processes summarising halves of a file, merged (the Celery chord's shape).

Every figure is the median of several runs in this one run (fairlearn's too); the
machine (CPU, cores, load average) is printed at the start and the end. Run
`python bench/bias_bench.py --help`; `--quick` is a smoke run of a few seconds. The
figures of a full run are recorded in docs/benchmarks.md; results go to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

# the measurements live in bench/bias/ (one module per part); `machine` is also used by
# bench/drift_bench.py, which imports it from here
from bench.bias.compute import COMPUTE_METRICS, bench_compute  # noqa: E402
from bench.bias.data import MAPPING, machine, write_files  # noqa: E402
from bench.bias.files import (  # noqa: E402
    bench_end_to_end,
    bench_split,
    child_summarise,
    measure_child,
)
from bench.bias.report import build_table, machine_line, print_table  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "out"


def _sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="rows for the in-memory comparison (default 1e6,1e7; --quick 2e4)",
    )
    p.add_argument(
        "--file-rows",
        type=float,
        default=None,
        help="rows of the stored files for end to end (default: largest size)",
    )
    p.add_argument(
        "--big",
        type=float,
        default=None,
        help="rows of the big Parquet file for peak memory, 0 to skip (default 1e8; --quick 1e5)",
    )
    p.add_argument(
        "--skip-fairlearn-at",
        type=float,
        default=None,
        help="skip fairlearn at this many rows and above (it takes minutes at 1e7)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats of each timing, median kept (default 5; fairlearn runs once)",
    )
    p.add_argument(
        "--fairlearn-repeats",
        type=int,
        default=3,
        help="runs of fairlearn per size, median kept (default 3; about 20 s each at 1e6)",
    )
    p.add_argument("--seed", type=int, default=20240501)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results and data files")
    p.add_argument("--keep", action="store_true", help="keep the generated data files")
    p.add_argument("--quick", action="store_true", help="a smoke run on ~20k rows")
    p.add_argument("--child-summarise", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = [20_000] if args.quick else [1_000_000, 10_000_000]
    if args.big is None:
        args.big = 1e5 if args.quick else 1e8
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    args.file_rows = int(args.file_rows or max(args.sizes))
    args.big = int(args.big)
    return args


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def main(argv: list[str] | None = None) -> Path:
    """Run every measurement; print the table; return the results JSON's path."""
    args = parse_args(argv)
    if args.child_summarise is not None:
        child_summarise(args.child_summarise)
        return Path(args.child_summarise)
    args.out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "benchmark": "bias summaries (issue #5)",
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/bias_bench.py", *(argv or sys.argv[1:])]),
        "seed": args.seed,
        "machine": machine(),
        "compute_metrics": COMPUTE_METRICS,
        "mapping": MAPPING.to_dict(),
        "compute": [],
        "end_to_end": [],
        "memory": [],
    }
    print(machine_line(results["machine"], "start"))
    made: list[Path] = []
    try:
        for size in args.sizes:
            fairlearn = args.skip_fairlearn_at is None or size < args.skip_fairlearn_at
            print(f"compute: {size:,} rows{'' if fairlearn else ' (fairlearn skipped)'}")
            results["compute"] += bench_compute(
                size, args.seed, args.repeats, fairlearn, min(args.fairlearn_repeats, args.repeats)
            )
            gc.collect()

        # bytes per row stored: ~19 Parquet, ~67 CSV (checked against the free space)
        need = args.file_rows * 90 + args.big * 20
        if _free_bytes(args.out) < 2 * need:
            raise SystemExit(f"not enough free disk under {args.out} for ~{need / 2**30:.1f} GiB")
        print(f"end to end: writing {args.file_rows:,} rows as Parquet and CSV")
        paths = write_files(args.file_rows, args.seed, args.out, csv=True)
        made += paths.values()
        results["end_to_end"] = bench_end_to_end(paths, args.file_rows, min(args.repeats, 3))

        print("two processes over halves of the Parquet file")
        results["split"] = {"rows": args.file_rows, **bench_split(paths["parquet"])}

        print("memory: child processes")
        base = measure_child(None)
        results["memory"].append({"rows": 0, "what": "python + imports only", **base})
        one = measure_child(paths["parquet"])
        results["memory"].append({"rows": args.file_rows, "what": "summarise Parquet", **one})
        one = measure_child(paths["csv"])
        results["memory"].append({"rows": args.file_rows, "what": "summarise CSV", **one})
        if args.big:
            t0 = time.perf_counter()
            big = write_files(args.big, args.seed, args.out, csv=False)["parquet"]
            made.append(big)
            results["big_file"] = {
                "rows": args.big,
                "bytes": big.stat().st_size,
                "write_seconds": time.perf_counter() - t0,
            }
            print(f"memory: {args.big:,} rows ({big.stat().st_size / 2**20:.0f} MiB)")
            m = measure_child(big)
            results["memory"].append({"rows": args.big, "what": "summarise Parquet", **m})
    finally:
        if not args.keep:
            for path in made:
                path.unlink(missing_ok=True)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["machine"]["bench_peak_rss_bytes"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    results["table"] = build_table(results)
    results["targets"] = [r for r in results["table"] if r["target"] is not None]
    print()
    print_table(results["table"])
    print(machine_line(results["machine"], "start"))
    print(machine_line(results["machine"], "end"))
    stamp = started.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"bias_bench-{stamp}.json"
    path.write_text(json.dumps(results, indent=1, default=_json_default) + "\n")
    print(f"\nresults: {path}")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {type(value)}")


if __name__ == "__main__":
    main()
