"""Speed and scale of bias summaries (issue #5), measured side by side in one run.

Three questions, on seeded synthetic data (5-level race, 2-level sex, outcome, 0/1
prediction and a score, with group differences in base rate, TPR and FPR):

1. compute: in memory, the same metrics and groups by `core.fairness`
   (accumulate + summarise + JSON), by Aequitas (Group.get_crosstabs + Bias disparities
   against a reference group) and by fairlearn (MetricFrame + difference/ratio);
2. end to end: from a stored Parquet or CSV file to the JSON summary the Celery task
   stores (`summarise_file` + `summarise` + `json.dumps`), against pyarrow reading only
   the needed columns of the same file;
3. memory: peak RSS of a child process that summarises a 10M-row and a 100M-row Parquet
   file (the reader streams batches, partial counts merge, so memory must stay flat),
   and two processes summarising halves of a file, merged (the Celery chord's shape).

Run `python bench/bias_bench.py --help`; `--quick` is a smoke run of a few seconds. The
figures of a full run are recorded in docs/benchmarks.md; results go to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import json
import math
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from core.fairness import EncodedColumn, GroupCounts, accumulate, summarise  # noqa: E402
from core.scored_io import (  # noqa: E402
    ColumnMapping,
    partial_for_row_groups,
    row_group_plan,
    summarise_file,
)

DEFAULT_OUT = ROOT / "bench" / "out"
RACES = ["Asian", "Black", "Hispanic", "Other", "White"]
RACE_P = [0.06, 0.30, 0.18, 0.06, 0.40]
SEXES = ["F", "M"]
REFERENCE = "White"  # the reference group every tool compares against
CHUNK_ROWS = 1_000_000  # generation chunk = Parquet row group
MAPPING = ColumnMapping(
    outcome="label", prediction="pred", score="score", sensitive=["race", "sex"]
)
# One row of the printed table / of results["table"]; the smoke test checks these keys.
COLUMNS = (
    "section", "case", "rows", "tool", "seconds", "relative", "peak_rss_mib", "target", "met",
    "detail",
)  # fmt: skip
# the types scored_io's CSV reader asks for (dictionary-encoded text, int8 labels)
CSV_TYPES = {
    "race": pa.dictionary(pa.int32(), pa.string()),
    "sex": pa.dictionary(pa.int32(), pa.string()),
    "label": pa.int8(),
    "pred": pa.int8(),
    "score": pa.float64(),
}
TARGET_COMPUTE_FAIRLEARN = 1000.0  # at least this many times faster than fairlearn
TARGET_COMPUTE_AEQUITAS = 10.0  # ... and than Aequitas
TARGET_E2E_RATIO = 2.0  # end to end within 2x of pyarrow's read of the needed columns
TARGET_PEAK_BYTES = 1 << 30  # 1 GiB

# Per race: base-rate shift, score shift (how the model treats the group); per sex too.
_RACE_BASE = np.array([-0.35, 0.45, 0.15, 0.0, -0.2])
_RACE_SCORE = np.array([-0.1, 0.35, 0.15, 0.05, -0.15])


# -- data -------------------------------------------------------------------------------


def synthetic(rows: int, seed: int, start: int = 0) -> dict[str, np.ndarray]:
    """`rows` seeded synthetic rows (codes for race and sex, 0/1 label and prediction).

    The label depends on race and sex (base rates ~0.21-0.40); the score is a noisy
    logistic of the label plus a group shift, so TPR and FPR differ by group too; the
    prediction is score >= 0.5. `start` numbers the ids (chunks of one file).
    """
    rng = np.random.default_rng([seed, start])
    race = rng.choice(5, rows, p=RACE_P).astype(np.int8)
    sex = (rng.random(rows) < 0.52).astype(np.int8)
    logit = -0.9 + _RACE_BASE[race] + 0.2 * sex
    label = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    z = -1.1 + 2.3 * label + _RACE_SCORE[race] + 0.15 * sex + rng.normal(0.0, 1.0, rows)
    score = 1.0 / (1.0 + np.exp(-z))
    return {
        "id": np.arange(start, start + rows, dtype=np.int64),
        "age": rng.integers(18, 80, rows).astype(np.int16),
        "race": race,
        "sex": sex,
        "label": label,
        "pred": (score >= 0.5).astype(np.int8),
        "score": score,
    }


def _table(data: dict[str, np.ndarray]) -> pa.Table:
    """The stored form: strings for race and sex (as pandas writes them), extra columns."""
    epoch = np.datetime64("2024-01-01T00:00:00", "s")
    return pa.table(
        {
            "id": data["id"],
            "ts": pa.array(epoch + data["id"].astype("timedelta64[s]"), pa.timestamp("s")),
            "age": data["age"],
            "race": np.array(RACES, dtype=object)[data["race"]],
            "sex": np.array(SEXES, dtype=object)[data["sex"]],
            "label": data["label"],
            "pred": data["pred"],
            "score": data["score"],
        }
    )


def write_files(rows: int, seed: int, out: Path, *, csv: bool) -> dict[str, Path]:
    """Write a Parquet (and a CSV) file of `rows` rows, one 1M-row chunk at a time."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": out / f"bias_{rows}_s{seed}.parquet"}
    if csv:
        paths["csv"] = out / f"bias_{rows}_s{seed}.csv"
    pq_writer = csv_writer = None
    try:
        for start in range(0, rows, CHUNK_ROWS):
            table = _table(synthetic(min(CHUNK_ROWS, rows - start), seed, start))
            if pq_writer is None:
                pq_writer = pq.ParquetWriter(paths["parquet"], table.schema)
                if csv:
                    csv_writer = pacsv.CSVWriter(paths["csv"], table.schema)
            pq_writer.write_table(table, row_group_size=CHUNK_ROWS)
            if csv_writer is not None:
                csv_writer.write_table(table)
    finally:
        for w in (pq_writer, csv_writer):
            if w is not None:
                w.close()
    return paths


# -- timing -----------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of `repeats` calls (garbage collected before each), and the result."""
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    versions = {}
    for package in ("numpy", "pandas", "pyarrow", "fairlearn", "aequitas", "scikit-learn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_bytes": ram,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit or None,
        "versions": versions,
        "load_average_at_start": list(os.getloadavg()),
        "shared": "timings taken on a machine shared with other jobs running at the same time",
    }


# -- 1. compute in memory -----------------------------------------------------------------

# The same metrics and groups for the three tools, race (5 groups) against "White":
# count, base rate, selection rate, TPR, FPR, FNR, precision, accuracy per group; the
# between-group difference and ratio of selection rate, TPR and FPR (demographic parity,
# equal opportunity, equalized odds); every rate's ratio to the reference group
# (disparate impact). Ours adds Wilson intervals, predictive parity and the small-group
# flags; Aequitas adds TNR, FOR, FDR, NPV, PPR and prevalence. Neither gets scores (no
# ROC AUC: Aequitas has none); ROC AUC is timed separately for ours.
COMPUTE_METRICS = (
    "count, base rate, selection rate, TPR, FPR, FNR, precision, accuracy per group; "
    "difference and ratio between groups (demographic parity, equal opportunity, "
    "equalized odds); each rate's ratio to the reference group 'White'"
)


def ours_native(data: dict, attributes: tuple[str, ...], *, score: bool = False) -> str:
    """From dictionary codes (what the Parquet and CSV readers deliver) to the JSON."""
    names = {"race": RACES, "sex": SEXES}
    sensitive = {a: EncodedColumn(data[a], names[a]) for a in attributes}
    counts = accumulate(
        y=data["label"],
        yhat=data["pred"],
        sensitive=sensitive,
        score=data["score"] if score else None,
    )
    reference = {"race": REFERENCE} if "race" in attributes else "best"
    return json.dumps(summarise(counts, reference=reference), allow_nan=False)


def ours_from_strings(frame, attributes: tuple[str, ...]) -> str:
    """From the same object-string DataFrame the other tools get (encoded by pandas)."""
    import pandas as pd

    sensitive = {}
    for a in attributes:
        codes, uniques = pd.factorize(frame[a].to_numpy(), use_na_sentinel=True)
        sensitive[a] = EncodedColumn(codes, list(uniques))
    counts = accumulate(
        y=frame["label_value"].to_numpy(), yhat=frame["score"].to_numpy(), sensitive=sensitive
    )
    reference = {"race": REFERENCE} if "race" in attributes else "best"
    return json.dumps(summarise(counts, reference=reference), allow_nan=False)


def aequitas_run(frame, attributes: list[str], reference: dict[str, str]):
    """Aequitas: every group's confusion metrics and their ratios to the reference."""
    from aequitas.bias import Bias
    from aequitas.group import Group

    xtab, _ = Group().get_crosstabs(frame, attr_cols=attributes)
    return Bias().get_disparity_predefined_groups(xtab, frame, reference)


def _base_rate(y_true, y_pred) -> float:
    return float(np.mean(y_true))


def fairlearn_run(frame):
    """fairlearn: one MetricFrame by race, its difference/ratio and ratios to 'White'."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "count": count,
        "base_rate": _base_rate,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "precision": functools.partial(precision_score, zero_division=np.nan),
        "accuracy": accuracy_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=metrics,
            y_true=frame["label_value"],
            y_pred=frame["score"],
            sensitive_features=frame["race"],
        )
        by_group = mf.by_group
        between = {"difference": mf.difference(), "ratio": mf.ratio()}
        against = by_group.div(by_group.loc[REFERENCE])
    return by_group, between, against


def _check_agreement(summary_json: str, aequitas_df, fairlearn_result) -> float:
    """Largest absolute difference between our per-group rates and the other tools'."""
    summary = json.loads(summary_json)
    block = next(b for b in summary["by_attribute"] if b["name"] == "race")
    worst = 0.0
    pairs = {"selection_rate": "pprev", "tpr": "tpr", "fpr": "fpr", "precision": "precision"}
    for group in block["groups"]:
        label = group["values"][0]
        row = aequitas_df[
            (aequitas_df["attribute_name"] == "race") & (aequitas_df["attribute_value"] == label)
        ].iloc[0]
        for ours, theirs in pairs.items():
            worst = max(worst, abs(group["metrics"][ours]["value"] - float(row[theirs])))
        if fairlearn_result is not None:
            fl = fairlearn_result[0].loc[label]
            for name in ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"):
                worst = max(worst, abs(group["metrics"][name]["value"] - float(fl[name])))
    return worst


def bench_compute(rows: int, seed: int, repeats: int, with_fairlearn: bool) -> list[dict]:
    import aequitas.bias  # noqa: F401  (imported here so that no timing includes imports)
    import aequitas.group  # noqa: F401
    import fairlearn.metrics  # noqa: F401
    import pandas as pd
    import sklearn.metrics  # noqa: F401

    data = synthetic(rows, seed)
    race = np.array(RACES, dtype=object)[data["race"]]
    sex = np.array(SEXES, dtype=object)[data["sex"]]
    # Aequitas's input: 'score' is the 0/1 prediction, 'label_value' the outcome, and
    # sensitive attributes as object (string) columns, which it requires.
    frame = pd.DataFrame(
        {"score": data["pred"], "label_value": data["label"], "race": race, "sex": sex}
    )
    out = []

    def add(case, tool, seconds, times, detail):
        out.append(
            {"case": case, "rows": rows, "tool": tool, "seconds": seconds,
             "times": times, "detail": detail}
        )  # fmt: skip

    race_only = ("race",)
    s, t, native_json = timed(lambda: ours_native(data, race_only), repeats)
    add("race", "ours (from codes)", s, t, "accumulate + summarise + json.dumps")
    s, t, _ = timed(lambda: ours_from_strings(frame, race_only), repeats)
    add("race", "ours (from strings)", s, t, "pandas.factorize + the above")
    s, t, aeq = timed(lambda: aequitas_run(frame, ["race"], {"race": REFERENCE}), repeats)
    add("race", "aequitas", s, t, "Group.get_crosstabs + Bias.get_disparity_predefined_groups")
    fl = None
    if with_fairlearn:
        s, t, fl = timed(lambda: fairlearn_run(frame), 1)
        add("race", "fairlearn", s, t, "MetricFrame(8 metrics) + difference + ratio, once")
    out[0]["max_abs_diff_vs_references"] = _check_agreement(native_json, aeq, fl)

    # Informational: race, sex and race x sex (17 groups). Aequitas needs the intersection
    # as a column of its own, built outside the timed region.
    both = ("race", "sex")
    s, t, _ = timed(lambda: ours_native(data, both), repeats)
    add("race, sex, race x sex", "ours (from codes)", s, t, "17 groups")
    s, t, _ = timed(lambda: ours_native(data, both, score=True), repeats)
    add("race, sex, race x sex", "ours (from codes) + ROC AUC", s, t, "with score histograms")
    frame["race_sex"] = frame["race"] + " x " + frame["sex"]
    refs = {"race": REFERENCE, "sex": "M", "race_sex": f"{REFERENCE} x M"}
    s, t, _ = timed(lambda: aequitas_run(frame, ["race", "sex", "race_sex"], refs), repeats)
    add("race, sex, race x sex", "aequitas", s, t, "intersection column prebuilt (untimed)")
    return out


# -- 2. end to end from a stored file ---------------------------------------------------


def summary_from_file(path: Path) -> str:
    """What the Celery task does: stored file -> counts -> summary -> JSON to store."""
    counts = summarise_file(path, MAPPING)
    return json.dumps(summarise(counts), allow_nan=False)


def bench_end_to_end(paths: dict[str, Path], rows: int, repeats: int) -> list[dict]:
    needed = MAPPING.needed()
    strings = list(MAPPING.sensitive)
    baselines = {
        "parquet": [
            ("pyarrow.parquet.read_table(columns=needed)",
             lambda p: pq.read_table(p, columns=needed)),
            ("... with read_dictionary=[race, sex]",
             lambda p: pq.read_table(p, columns=needed, read_dictionary=strings)),
        ],
        "csv": [
            ("pyarrow.csv.read_csv(include_columns=needed)",
             lambda p: pacsv.read_csv(
                 p, convert_options=pacsv.ConvertOptions(include_columns=needed))),
            ("... with the column types ours uses",
             lambda p: pacsv.read_csv(
                 p, convert_options=pacsv.ConvertOptions(
                     include_columns=needed, column_types=CSV_TYPES))),
        ],
    }  # fmt: skip
    out = []
    summaries = {}
    for fmt, path in paths.items():
        size = path.stat().st_size
        # alternate reader and summary so that both see the same machine load
        base_times = {name: [] for name, _ in baselines[fmt]}
        ours_times = []
        for _ in range(repeats):
            for name, fn in baselines[fmt]:
                s, _, table = timed(lambda fn=fn, path=path: fn(path), 1)
                base_times[name].append(s)
                del table
            s, _, summaries[fmt] = timed(lambda path=path: summary_from_file(path), 1)
            ours_times.append(s)
        for name, times in base_times.items():
            out.append({"format": fmt, "rows": rows, "file_bytes": size, "tool": name,
                        "seconds": statistics.median(times), "times": times})  # fmt: skip
        out.append({"format": fmt, "rows": rows, "file_bytes": size,
                    "tool": "summarise_file + summarise + json.dumps",
                    "seconds": statistics.median(ours_times), "times": ours_times})  # fmt: skip
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
    t0 = time.perf_counter()
    text = summary_from_file(Path(path)) if path != "-" else ""
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "json_bytes": len(text), "peak_rss_bytes": _peak_rss_bytes()}
    print(json.dumps(out))


def measure_child(path: Path | None) -> dict:
    """Peak RSS of a fresh interpreter that summarises `path` (None: imports only)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-summarise"]
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
    return partial_for_row_groups(path, MAPPING, groups).to_dict()


def bench_split(path: Path, workers: int = 2) -> dict:
    """Two processes summarise halves (row groups) of one file; the merge is exact."""
    plan = row_group_plan(path, workers)
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_partial, [(str(path), groups) for groups in plan])
    merged = sum(GroupCounts.from_dict(p) for p in parts)
    text = json.dumps(summarise(merged), allow_nan=False)
    split_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = summarise_file(path, MAPPING)
    whole_seconds = time.perf_counter() - t0
    return {
        "workers": workers,
        "row_groups": [len(g) for g in plan],
        "seconds": split_seconds,
        "one_process_seconds": whole_seconds,
        "merged_equals_whole": merged == whole,
        "json_bytes": len(text),
    }


# -- report ---------------------------------------------------------------------------------


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def build_table(results: dict) -> list[dict]:
    """Flatten the sections into rows of COLUMNS, with the targets judged."""
    rows: list[dict] = []

    def row(**kw):
        rows.append({c: kw.get(c) for c in COLUMNS})

    by_size: dict[int, dict[tuple[str, str], dict]] = {}
    for r in results["compute"]:
        by_size.setdefault(r["rows"], {})[(r["case"], r["tool"])] = r
    for size, items in by_size.items():
        for (case, tool), r in items.items():
            mine = items.get((case, "ours (from codes)"))
            relative = target = met = None
            if tool in ("aequitas", "fairlearn") and mine:
                relative = r["seconds"] / mine["seconds"]  # how many times slower than ours
                if case == "race":
                    target = (
                        TARGET_COMPUTE_FAIRLEARN if tool == "fairlearn" else TARGET_COMPUTE_AEQUITAS
                    )
                    met = relative >= target
            elif tool == "ours (from strings)":
                other = items.get((case, "aequitas"))
                relative = other["seconds"] / r["seconds"] if other else None
            row(section="compute", case=case, rows=size, tool=tool, seconds=r["seconds"],
                relative=relative, target=target, met=met, detail=r["detail"])  # fmt: skip
    e2e = results["end_to_end"]
    for fmt in ("parquet", "csv"):
        items = [r for r in e2e if r["format"] == fmt]
        if not items:
            continue
        ours = items[-1]
        base = items[0]
        for r in items:
            relative = target = met = None
            if r is ours:
                relative = ours["seconds"] / base["seconds"]
                target, met = TARGET_E2E_RATIO, relative <= TARGET_E2E_RATIO
            else:
                relative = ours["seconds"] / r["seconds"]
            row(section="end_to_end", case=fmt, rows=r["rows"], tool=r["tool"],
                seconds=r["seconds"], relative=relative, target=target, met=met,
                detail=f"file {r['file_bytes'] / 2**20:.0f} MiB")  # fmt: skip
    for m in results["memory"]:
        peak = m["peak_rss_bytes"]
        judged = m["what"] == "summarise Parquet" and m["rows"] == max(
            x["rows"] for x in results["memory"]
        )
        row(section="memory", case="child process", rows=m["rows"], tool=m["what"],
            seconds=m.get("seconds") if m["rows"] else None, peak_rss_mib=peak / 2**20,
            target=TARGET_PEAK_BYTES / 2**20 if judged and m["rows"] else None,
            met=(peak < TARGET_PEAK_BYTES) if judged and m["rows"] else None,
            detail="VmHWM of the child")  # fmt: skip
    split = results.get("split")
    if split:
        row(section="split", case=f"{split['workers']} processes, row groups {split['row_groups']}",
            rows=split["rows"], tool="partial_for_row_groups x2 + merge + summarise",
            seconds=split["seconds"], relative=split["seconds"] / split["one_process_seconds"],
            detail=f"merged == whole: {split['merged_equals_whole']}")  # fmt: skip
    return rows


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'section':<11} {'case':<24} {'rows':>11} {'tool':<46} {'time':>10} {'rel.':>9}  target"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        rel = "" if r["relative"] is None else f"{r['relative']:.3g}x"
        if r["section"] == "memory":
            rel = f"{r['peak_rss_mib']:.0f} MiB"
        verdict = ""
        if r["target"] is not None:
            op = "<=" if r["section"] in ("end_to_end", "memory") else ">="
            unit = " MiB" if r["section"] == "memory" else "x"
            verdict = f"{op} {r['target']:g}{unit}: {'met' if r['met'] else 'NOT met'}"
        print(
            f"{r['section']:<11} {r['case'][:24]:<24} {r['rows']:>11,} {r['tool'][:46]:<46} "
            f"{_fmt_seconds(r['seconds']):>10} {rel:>9}  {verdict}"
        )
    print(
        "rel.: compute = that tool's time / ours from codes (for 'from strings': Aequitas's "
        "/ its); end_to_end = ours / that reader's; memory = peak RSS; split = 2 processes / 1"
    )


# -- main -------------------------------------------------------------------------------------


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
    made: list[Path] = []
    try:
        for size in args.sizes:
            fairlearn = args.skip_fairlearn_at is None or size < args.skip_fairlearn_at
            print(f"compute: {size:,} rows{'' if fairlearn else ' (fairlearn skipped)'}")
            results["compute"] += bench_compute(size, args.seed, args.repeats, fairlearn)
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
