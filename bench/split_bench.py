"""Split a bias summary or not (issue 18: "split summaries across workers only when it
pays"): the product's count of a large Parquet file in one process
(``fairness.services.bias_counts_read``, what ``bias_summary_run`` does) against the
same file's row-group shares (``core.scored_io.row_group_plan``, as the product plans
them) counted by N processes at once (``bias_counts_read`` on each share, what
``bias_part_run`` does) and merged. The N processes are started and have Django loaded
before the timing, as running workers have; medians over ``--repeats`` runs, with the
machine and its load average before and after. Queueing the shares through the broker
is not counted (it only adds to the split).

    .venv/bin/python bench/split_bench.py --rows 10000000 --shares 2,4 --repeats 3

Printed and written to bench/out/split-bench-<rows>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _warm() -> None:
    """Each pool process loads Django and the product's services once, as a worker has."""
    from bench.bias.files import _services

    _services()


def _share(args: tuple[str, list[int]]) -> dict:
    from bench.bias.files import _partial

    return _partial(args)


def _timed_split(path: Path, shares: int, repeats: int) -> dict:
    import multiprocessing
    import time

    from bench.bias.data import MAPPING
    from bench.bias.files import _services
    from core.fairness import GroupCounts
    from core.scored_io import row_group_plan

    services = _services()
    plan = row_group_plan(path, shares)
    jobs = [(str(path), groups) for groups in plan]
    split_s, one_s = [], []
    with multiprocessing.get_context("spawn").Pool(shares, initializer=_warm) as pool:
        pool.map(_share, jobs, chunksize=1)  # untimed: every process up and warm
        for _ in range(repeats):
            t0 = time.perf_counter()
            merged = sum(GroupCounts.from_dict(p) for p in pool.map(_share, jobs, chunksize=1))
            split_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            whole = services.bias_counts_read(str(path), MAPPING.to_dict())
            one_s.append(time.perf_counter() - t0)
            assert merged == whole  # the same counts, so the same stored result
    return {
        "split_s_median": round(statistics.median(split_s), 2),
        "one_process_s_median": round(statistics.median(one_s), 2),
        "split_s": [round(x, 2) for x in split_s],
        "one_process_s": [round(x, 2) for x in one_s],
        "row_groups": [len(g) for g in plan],
    }


def main() -> None:
    from bench.bias.data import machine, write_files

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--shares", default="2,4")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    path = out / f"bias_{args.rows}_s1.parquet"
    if not path.exists():
        path = write_files(args.rows, 1, out, csv=False)["parquet"]
    report = {"rows": args.rows, "machine": machine(), "load_before": os.getloadavg()}
    for shares in [int(x) for x in args.shares.split(",")]:
        report[f"{shares} shares"] = _timed_split(path, shares, args.repeats)
        print(shares, json.dumps(report[f"{shares} shares"]))
    report["load_after"] = os.getloadavg()
    target = out / f"split-bench-{args.rows}.json"
    target.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
