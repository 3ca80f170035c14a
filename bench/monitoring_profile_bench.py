"""Monitoring reference profiles at 1M and 4M rows (issue 18): the product's own path.

For each size, a reference of N rows x 25 columns (19 numeric features, 10 of them
continuous at full precision, the worst case for a profile; 2 categorical; score,
prediction, outcome, timestamp) is generated as Parquet into ``--data`` (default
/tmp/monitoring_profile_bench), attached to a demo version through the product's upload
service, and then:

1. **save**: the configuration posted through the page (Django's test client, as
   governance.lead), ``--saves`` times with a different feature set each time (so each
   save asks for a new profile): the request's wall time;
2. **build**: the worker's task (``monitoring.tasks.reference_profile_build``, the task
   function a worker runs) in a child process, ``--builds`` times: wall time and the
   child's peak RSS (VmHWM), with the RSS before the build (Django loaded);
3. **page**: the monitoring page of that configuration (with a small production batch
   and its windows computed, so the charts are drawn), ``--pages`` times after one
   warm-up: wall time and bytes;
4. **baselines**, in child processes too: a plain pyarrow read of the same columns
   (categorical columns read as dictionaries), and the builder before issue 18 (kept
   every batch's profile and concatenated labels and scores, then the JSON it stored)
   taken from git (``--old-ref``, default the last commit that had it) when available.

Medians of the runs are reported, and ratios to the pyarrow read.

    .venv/bin/python bench/monitoring_profile_bench.py                 # 1M and 4M
    .venv/bin/python bench/monitoring_profile_bench.py --rows 1000000 --builds 1

Results go to ``bench/out/monitoring_profile_bench-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
NUMERIC = [f"x{i:02d}" for i in range(19)]
CONTINUOUS = NUMERIC[:10]
CATEGORICAL = ["region", "channel"]
MAPPING = {
    "outcome": "y",
    "prediction": "y_hat",
    "score": "score",
    "timestamp": "ts",
    "sensitive": ["region"],
}
NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def generate(path: Path, rows: int) -> None:
    """N rows x 25 columns, written row group by row group (bounded memory)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(18)
    writer = None
    step = 500_000
    start = int((NOW - dt.timedelta(days=400)).timestamp())
    for lo in range(0, rows, step):
        n = min(step, rows - lo)
        cols = {}
        for i, name in enumerate(NUMERIC):
            x = rng.normal(40 + i, 8 + i, n)
            cols[name] = x if name in CONTINUOUS else np.round(x, 2)
        cols["region"] = pa.array(rng.choice(["north", "south", "east", "west"], n))
        cols["channel"] = pa.array(rng.choice([f"c{i}" for i in range(30)], n))
        score = 1 / (1 + np.exp(-(cols["x00"] - 40) / 8))
        cols["score"] = score
        cols["y_hat"] = (score >= 0.5).astype(np.int8)
        cols["y"] = (rng.random(n) < score).astype(np.int8)
        cols["ts"] = pa.array(
            (start + np.arange(lo, lo + n) * 30 * 86400 // rows).astype("datetime64[s]"),
            pa.timestamp("s", tz="UTC"),
        )
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(str(path) + ".part", table.schema)
        writer.write_table(table, row_group_size=step)
    writer.close()
    os.replace(str(path) + ".part", path)


def _setup(args) -> None:
    os.environ["CELERY_BROKER_URL"] = "memory://"  # the save's message stays in-process
    from bench.bootstrap import django_setup

    django_setup(
        db_name="monitoring-profile",
        db_path=str(Path(args.data) / "bench.sqlite3"),
        media=Path(args.data) / "media",
        seed=not args.child,
    )


# --- children ---------------------------------------------------------------------------


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vm_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(args) -> None:
    kind, target = args.child
    if kind == "pyarrow":
        import pyarrow.parquet as pq

        cols = [*NUMERIC, *CATEGORICAL, "score", "y_hat", "y"]
        pq.ParquetFile(target).read_row_group(0, columns=cols)  # warm: imports, kernels
        before = _vm_rss_mib()
        t = time.perf_counter()
        table = pq.read_table(target, columns=cols, read_dictionary=CATEGORICAL)
        seconds = time.perf_counter() - t
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "rows": table.num_rows,
                    "rss_before": before,
                    "peak_mib": _vm_hwm_mib(),
                }
            )
        )
        return
    _setup(args)
    from monitoring.models import ReferenceProfile

    profile = ReferenceProfile.objects.select_related("dataset").get(pk=int(target))
    before = _vm_rss_mib()
    if kind == "build":
        from monitoring.tasks import reference_profile_build

        t = time.perf_counter()
        result = reference_profile_build(profile_id=profile.pk)
        seconds = time.perf_counter() - t
        out = {"seconds": seconds, "result": result}
    else:  # "old": the builder before issue 18, from git, and the JSON it stored
        source = subprocess.run(
            ["git", "show", f"{args.old_ref}:monitoring/services/profiles.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        namespace: dict = {"__name__": "old_profiles"}
        exec(compile(source, "old_profiles.py", "exec"), namespace)  # noqa: S102 (our own code)
        t = time.perf_counter()
        data, _perf, rows = namespace["_build_profile"](profile.dataset, profile.options)
        size = len(json.dumps(data))
        seconds = time.perf_counter() - t
        out = {"seconds": seconds, "rows": rows, "json_bytes": size}
    out.update(rss_before=before, peak_mib=_vm_hwm_mib())
    print(json.dumps(out, default=str))


def run_child(args, kind: str, target: str) -> dict:
    argv = [
        sys.executable,
        __file__,
        "--data",
        args.data,
        "--old-ref",
        args.old_ref,
        "--child",
        kind,
        target,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{kind} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the measured product path ------------------------------------------------------------


def _reference(path: Path):
    """The generated file attached to a demo version with no monitoring (once)."""
    from django.contrib.auth.models import User
    from django.core.files import File

    from fairness import services as bias_svc
    from fairness.models import ScoredDataset
    from inventory.models import ModelVersion

    lead = User.objects.get(username="governance.lead")
    found = ScoredDataset.objects.filter(original_name=path.name).first()
    if found is not None:
        return found, lead
    version = ModelVersion.objects.filter(monitoring_config__isnull=True).order_by("pk").first()
    t = time.perf_counter()
    with path.open("rb") as fh:
        dataset, _ = bias_svc.scored_dataset_upload(
            version=version,
            by=lead,
            file=File(fh, name=path.name),
            mapping=MAPPING,
            purpose="reference",
        )
    if dataset.status == dataset.Status.VALIDATING:  # setup: every row checked here
        bias_svc.scored_dataset_validate(dataset_id=dataset.pk)
        dataset.refresh_from_db()
    print(f"  attached {path.name} in {time.perf_counter() - t:.1f} s (setup, not measured)")
    return dataset, lead


def _form(dataset, numeric: list[str]) -> dict:
    return {
        "reference": dataset.pk,
        "numeric_features": ", ".join(numeric),
        "categorical_features": ", ".join(CATEGORICAL),
        "timestamp_column": "ts",
        "prediction_column": "y_hat",
        "score_column": "score",
        "outcome_column": "y",
        "performance_max_drop": "0.05",
    }


def _production_batch(config, lead) -> None:
    """A small production batch (two weeks) and its windows, so the page draws charts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.core.files.base import ContentFile

    from monitoring import services as svc

    if config.batches.exists():
        return
    rng = np.random.default_rng(3)
    n = 20_000
    cols = {name: rng.normal(41 + i, 8 + i, n) for i, name in enumerate(NUMERIC)}
    cols["region"] = pa.array(rng.choice(["north", "south", "east", "west"], n))
    cols["channel"] = pa.array(rng.choice([f"c{i}" for i in range(30)], n))
    cols["score"] = 1 / (1 + np.exp(-(cols["x00"] - 40) / 8))
    cols["y_hat"] = (cols["score"] >= 0.5).astype(np.int8)
    start = int((NOW - dt.timedelta(days=14)).timestamp())
    cols["ts"] = pa.array(
        (start + np.arange(n) * 14 * 86400 // n).astype("datetime64[s]"),
        pa.timestamp("s", tz="UTC"),
    )
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table(cols), buf)
    svc.monitoring_batch_upload(
        config=config,
        by=lead,
        file=ContentFile(buf.getvalue().to_pybytes(), name="prod.parquet"),
        now=NOW,
    )
    svc.monitoring_compute(config_id=config.pk, now=NOW, queue_emails=False)


def _saves(args, client, url, dataset) -> list[float]:
    """Seconds of each configuration save through the page; each asks for a new profile
    (a different feature set), the last one for every feature (the one built)."""
    from monitoring.models import ReferenceProfile

    saves = []
    sets = [[n for j, n in enumerate(NUMERIC) if j != i + 1] for i in range(args.saves - 1)]
    for numeric in [*sets, NUMERIC]:
        ReferenceProfile.objects.filter(dataset=dataset).delete()
        t = time.perf_counter()
        response = client.post(url, _form(dataset, numeric))
        saves.append(time.perf_counter() - t)
        assert response.status_code == 302, response.content[-2000:]
    return saves


def _page_times(args, lead, version_id) -> tuple[list[float], int]:
    from django.test import Client
    from django.urls import reverse

    viewer = Client()
    viewer.force_login(lead)
    page_url = reverse("monitoring:monitoring", args=[version_id])
    viewer.get(page_url)
    pages, size = [], 0
    for _ in range(args.pages):
        t = time.perf_counter()
        response = viewer.get(page_url)
        pages.append(time.perf_counter() - t)
        size = len(response.content)
        assert response.status_code == 200 and b"chart-heatmap-data" in response.content
    return pages, size


def _old_runs(args, profile_id: int) -> list[dict]:
    if not args.old:
        return []
    try:
        return [run_child(args, "old", str(profile_id)) for _ in range(args.old_runs)]
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"  old builder not measured: {str(exc)[:300]}")
        return []


def measure(args, rows: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    from monitoring import services as svc
    from monitoring.models import MonitoringConfig, ReferenceProfile

    path = Path(args.data) / f"reference-{rows}.parquet"
    t = time.perf_counter()
    generate(path, rows)
    print(f"  data {path} ({path.stat().st_size / 2**20:.0f} MiB, {time.perf_counter() - t:.1f} s)")
    dataset, lead = _reference(path)
    client = Client()
    client.force_login(lead)
    url = reverse("monitoring:monitoring-configure", args=[dataset.model_version_id])
    saves = _saves(args, client, url, dataset)
    config = MonitoringConfig.objects.get(model_version_id=dataset.model_version_id)
    profile = svc.reference_profile_of(config)
    assert profile.status == "queued", profile.status
    builds = []
    for _ in range(args.builds):
        ReferenceProfile.objects.filter(pk=profile.pk).update(status="queued")
        builds.append(run_child(args, "build", str(profile.pk)))
    profile.refresh_from_db()
    assert profile.status == "ready", profile.error
    parts_bytes = sum(
        len(p.values or b"") + len(p.counts) for p in profile.parts.only("values", "counts")
    )
    baseline = [run_child(args, "pyarrow", str(path)) for _ in range(args.builds)]
    old = _old_runs(args, profile.pk)
    _production_batch(config, lead)
    pages, size = _page_times(args, lead, dataset.model_version_id)
    med = statistics.median
    result = {
        "rows": rows,
        "file_mib": path.stat().st_size / 2**20,
        "save_ms": {"median": med(saves) * 1000, "runs": [s * 1000 for s in saves]},
        "build_s": {
            "median": med(b["seconds"] for b in builds),
            "runs": [b["seconds"] for b in builds],
        },
        "build_peak_mib": {
            "median": med(b["peak_mib"] for b in builds),
            "max": max(b["peak_mib"] for b in builds),
            "rss_before": med(b["rss_before"] for b in builds),
        },
        "stored": {"summary_bytes": len(json.dumps(profile.summary)), "parts_bytes": parts_bytes},
        "page_ms": {"median": med(pages) * 1000, "runs": [p * 1000 for p in pages], "bytes": size},
        "pyarrow_read": {
            "median_s": med(b["seconds"] for b in baseline),
            "peak_mib": med(b["peak_mib"] for b in baseline),
        },
    }
    result["build_vs_pyarrow"] = result["build_s"]["median"] / result["pyarrow_read"]["median_s"]
    if old:
        result["old_builder"] = {
            "median_s": med(o["seconds"] for o in old),
            "peak_mib": med(o["peak_mib"] for o in old),
            "json_mib": old[0]["json_bytes"] / 2**20,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 4_000_000])
    parser.add_argument("--data", default="/tmp/monitoring_profile_bench")  # noqa: S108
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=9)
    parser.add_argument("--old", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--old-runs", type=int, default=1)
    # the last commit with the builder that kept every batch (before issue 18's change)
    parser.add_argument("--old-ref", default="2351352")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    Path(args.data).mkdir(parents=True, exist_ok=True)
    _setup(args)
    results = []
    for rows in args.rows:
        print(f"{rows:,} rows")
        r = measure(args, rows)
        results.append(r)
        print(json.dumps(r, indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = OUT / f"monitoring_profile_bench-{stamp}.json"
    out.write_text(json.dumps({"results": results, "argv": sys.argv[1:]}, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
