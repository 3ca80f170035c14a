"""The benchmark's data and instruments: seeded synthetic rows with group differences,
the Parquet and CSV files written from them one row group at a time, a timer keeping
the median of several runs, and a description of the machine."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.scored_io import ColumnMapping

ROOT = Path(__file__).resolve().parents[2]
RACES = ["Asian", "Black", "Hispanic", "Other", "White"]
RACE_P = [0.06, 0.30, 0.18, 0.06, 0.40]
SEXES = ["F", "M"]
REFERENCE = "White"  # the reference group every tool compares against
CHUNK_ROWS = 1_000_000  # generation chunk = Parquet row group
MAPPING = ColumnMapping(
    outcome="label", prediction="pred", score="score", sensitive=["race", "sex"]
)
# the types scored_io's CSV reader asks for (dictionary-encoded text, int8 labels)
CSV_TYPES = {
    "race": pa.dictionary(pa.int32(), pa.string()),
    "sex": pa.dictionary(pa.int32(), pa.string()),
    "label": pa.int8(),
    "pred": pa.int8(),
    "score": pa.float64(),
}

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
