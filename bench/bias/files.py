"""2. End to end, from a stored Parquet or CSV file to the JSON the Celery task stores,
through the worker's own functions (``fairness.services``), against pyarrow reading the
needed columns (plainly, and in its fastest mode: dictionary-encoded text, the column
types our reader asks for); 3. peak memory of a fresh child process that summarises a
file, and two processes over halves of a file's row groups, merged."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.bias.data import CSV_TYPES, MAPPING, ROOT, timed
from core.fairness import GroupCounts
from core.scored_io import row_group_plan

# the child process runs the command line's own script, in --child-summarise mode
SCRIPT = ROOT / "bench" / "bias_bench.py"
# what a summary asked for with the page's defaults stores as its options
# (fairness.services.bias_options: reference "best", the product's default thresholds)
OPTIONS_DEFAULTS = {"reference": "best", "min_group_size": 30, "favourable_prediction": 1}

# -- 2. end to end from a stored file ---------------------------------------------------


def _services():
    """The product's worker functions: Django set up with the installation's settings
    (batch size, group cap); no database is opened."""
    from bench.bootstrap import django_setup

    django_setup(db_name="bias-bench", seed=False)
    from fairness import services

    return services


def summary_from_file(path: Path) -> str:
    """What the worker runs for a summary (``fairness.services.running``): the stored
    file counted by ``bias_counts_read``, the result by ``summarise_counts`` with the
    default options, and the two JSON values it stores (result and counts)."""
    services = _services()
    options = {**OPTIONS_DEFAULTS, "thresholds": dict(services.DEFAULT_THRESHOLDS)}
    counts = services.bias_counts_read(str(path), MAPPING.to_dict())
    result = services.summarise_counts(counts, options)
    return json.dumps({"result": result, "counts": counts.to_dict()}, allow_nan=False)


# the fastest read of each format, the baseline the 2x target is judged against (issue 18)
STRONGEST = {
    "parquet": "... with read_dictionary=[race, sex]",
    "csv": "... with the column types ours uses",
}


def bench_end_to_end(paths: dict[str, Path], rows: int, repeats: int) -> list[dict]:
    needed = MAPPING.needed()
    strings = list(MAPPING.sensitive)
    baselines = {
        "parquet": [
            (
                "pyarrow.parquet.read_table(columns=needed)",
                lambda p: pq.read_table(p, columns=needed),
            ),
            (
                STRONGEST["parquet"],
                lambda p: pq.read_table(p, columns=needed, read_dictionary=strings),
            ),
        ],
        "csv": [
            (
                "pyarrow.csv.read_csv(include_columns=needed)",
                lambda p: pacsv.read_csv(
                    p, convert_options=pacsv.ConvertOptions(include_columns=needed)
                ),
            ),
            (
                STRONGEST["csv"],
                lambda p: pacsv.read_csv(
                    p,
                    convert_options=pacsv.ConvertOptions(
                        include_columns=needed, column_types=CSV_TYPES
                    ),
                ),
            ),
        ],
    }
    out = []
    summaries = {}
    for fmt, path in paths.items():
        size = path.stat().st_size
        # alternate reader and summary so that both see the same machine load
        base_times = {name: [] for name, _ in baselines[fmt]}
        ours_times, loads = [], []
        summary_from_file(path)  # warm-up: Django's imports, the file in the page cache
        for _ in range(repeats):
            for name, fn in baselines[fmt]:
                s, _, table = timed(lambda fn=fn, path=path: fn(path), 1)
                base_times[name].append(s)
                del table
            s, _, summaries[fmt] = timed(lambda path=path: summary_from_file(path), 1)
            ours_times.append(s)
            loads.append(os.getloadavg()[0])
        for name, times in base_times.items():
            out.append(
                {
                    "format": fmt,
                    "rows": rows,
                    "file_bytes": size,
                    "tool": name,
                    "strongest": name == STRONGEST[fmt],
                    "seconds": statistics.median(times),
                    "times": times,
                }
            )
        out.append(
            {
                "format": fmt,
                "rows": rows,
                "file_bytes": size,
                "tool": "ours: bias_counts_read + summarise_counts + JSON",
                "strongest": False,
                "seconds": statistics.median(ours_times),
                "times": ours_times,
                "load_average_1min": loads,
            }
        )
    if len(summaries) == 2:
        a, b = (json.loads(x) for x in summaries.values())
        out[0]["csv_equals_parquet"] = a == b
    return out


# -- 3. memory, and two processes ---------------------------------------------------------


def _peak_rss_bytes() -> int:
    """This process's own peak RSS: VmHWM, the high-water mark of its address space.

    Not ru_maxrss: on Linux a child's ru_maxrss (getrusage(RUSAGE_SELF or RUSAGE_CHILDREN)
    or wait4) starts from the parent's peak, carried over the fork and exec that start it,
    so it reports the benchmark process's own size rather than the summary's.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_summarise(path: str) -> None:
    """Run in a child process: summarise a file, print timing and peak RSS as JSON."""
    _services()  # Django and the product's modules, in the baseline child too
    t0 = time.perf_counter()
    text = summary_from_file(Path(path)) if path != "-" else ""
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "json_bytes": len(text), "peak_rss_bytes": _peak_rss_bytes()}
    print(json.dumps(out))


def measure_child(path: Path | None) -> dict:
    """Peak RSS of a fresh interpreter that summarises `path` (None: imports only)."""
    cmd = [sys.executable, str(SCRIPT), "--child-summarise"]
    cmd.append(str(path) if path is not None else "-")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    stdout = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}) on {path}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["wait4_ru_maxrss_bytes"] = usage.ru_maxrss * 1024  # KiB; see _peak_rss_bytes
    return result


def _partial(args: tuple[str, list[int]]) -> dict:
    path, groups = args
    return _services().bias_counts_read(path, MAPPING.to_dict(), row_groups=groups).to_dict()


def bench_split(path: Path, workers: int = 2) -> dict:
    """Two processes summarise halves (row groups) of one file; the merge is exact."""
    plan = row_group_plan(path, workers)
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_partial, [(str(path), groups) for groups in plan])
    services = _services()
    merged = sum(GroupCounts.from_dict(p) for p in parts)
    options = {**OPTIONS_DEFAULTS, "thresholds": dict(services.DEFAULT_THRESHOLDS)}
    text = json.dumps(services.summarise_counts(merged, options), allow_nan=False)
    split_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = services.bias_counts_read(str(path), MAPPING.to_dict())
    whole_seconds = time.perf_counter() - t0
    return {
        "workers": workers,
        "row_groups": [len(g) for g in plan],
        "seconds": split_seconds,
        "one_process_seconds": whole_seconds,
        "merged_equals_whole": merged == whole,
        "json_bytes": len(text),
    }
