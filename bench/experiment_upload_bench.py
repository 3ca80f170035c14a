"""An outside randomiser's A/B export in one upload (issue 14: "loads in one upload
within seconds").

The issue's file: 60,000 units (a feature-flag export: ``user_id, variation, converted,
timestamp``; 50/50 planned, 30,900/29,100 arrived, the challenger apparently better).
Each run creates a fresh external-assignment experiment on the demo's A/B use case,
starts it, and times, side by side on the same file and database:

- **product, page**: the upload form (``experiments:experiment-upload``) through Django's
  test client, signed in as the experiment's owner: the column mapping, every row
  validated before anything is written, one batch written in one transaction, the
  accrual check; then the analysis (``experiment_analyse``), which must answer "not
  valid: sample-ratio mismatch";
- **baselines, no checks**: ``pyarrow.csv`` reads the file and the same rows are
  written in one transaction, by the ORM's ``bulk_create``, and by one parameterised
  INSERT over all rows (PostgreSQL: COPY; the strongest plain loader);
- **parse only**: ``pyarrow.csv`` reading the file (the floor).

    .venv/bin/python bench/experiment_upload_bench.py                 # SQLite file in bench/out
    DATABASE_URL=postgres://... .venv/bin/python bench/experiment_upload_bench.py

Medians over ``--repeats`` runs (one warm-up); results to ``bench/out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "bench" / "out"
ARMS = (30_900, 29_100)  # control, treatment: 51.5 / 48.5 of 60,000


def _setup(args) -> None:
    from bench.bootstrap import django_setup

    django_setup(db_name="experiment-upload", db_path=args.db or "")


def export_file(seed: int = 1) -> bytes:
    """The issue's export, as a feature-flag platform writes it."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.array(["control"] * ARMS[0] + ["treatment"] * ARMS[1])
    rng.shuffle(labels)
    converted = rng.random(len(labels)) < np.where(labels == "control", 0.30, 0.33)
    lines = ["user_id,variation,converted,timestamp"]
    lines += [
        f"u{i:06d},{v},{int(c)},2026-11-{1 + i % 28:02d}T10:00:00Z"
        for i, (v, c) in enumerate(zip(labels, converted, strict=True))
    ]
    return ("\n".join(lines) + "\n").encode()


def fresh_experiment(run: int):
    """A started external-assignment experiment between the demo's A/B versions."""
    from demo.experiments import AB_NAME
    from experiments import services as svc
    from experiments.models import Experiment

    template = Experiment.objects.get(name=AB_NAME)
    owner = template.owner
    experiment = svc.experiment_create(
        use_case=template.use_case,
        by=owner,
        name=f"Upload benchmark {dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S} #{run}",
        champion=template.champion,
        challenger=template.challenger,
        design="ab",
        metric_kind="proportion",
        primary_metric="converted",
        population="The benchmark's 60,000 users",
        splitting="random",
        entity_key_name="user_id",
        assignment="external",
        protocol={
            "alpha": 0.05,
            "power": 0.8,
            "minimum_effect": 0.02,
            "baseline_proportion": 0.3,
            "split": {"champion": 50, "challenger": 50},
            "daily_traffic": 5000,
        },
    )
    svc.experiment_start_unchecked(experiment=experiment, by=owner, auth_method="benchmark")
    experiment.refresh_from_db()
    return experiment, owner


def product_page(body: bytes, run: int) -> tuple[float, float, str]:
    """(upload seconds, analysis seconds, verdict) through the page and the service."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from experiments import services as svc
    from experiments.models import ExperimentOutcome

    experiment, owner = fresh_experiment(run)
    client = Client()
    client.force_login(owner)
    form = {
        "file": SimpleUploadedFile("launchdarkly-export.csv", body, "text/csv"),
        "unit": "user_id",
        "arm": "variation",
        "outcome": "converted",
        "champion_label": "control",
        "challenger_label": "treatment",
    }
    started = time.perf_counter()
    response = client.post(reverse("experiments:experiment-upload", args=[experiment.pk]), form)
    upload = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"upload refused: {response.status_code} {response.content[:500]!r}")
    assert ExperimentOutcome.objects.filter(experiment=experiment).count() == sum(ARMS)
    svc.experiments_check(now=experiment.planned_end)
    started = time.perf_counter()
    svc.experiment_analyse(experiment_id=experiment.pk)
    analysis = time.perf_counter() - started
    experiment.refresh_from_db()
    return upload, analysis, experiment.result["verdict"]


ARM_OF = {"control": "champion", "treatment": "challenger"}


def _baseline(body: bytes, run: int, write) -> float:
    """Seconds to read the file with pyarrow and ``write(experiment, batch, rows)`` the
    (unit, arm, outcome) rows in one transaction with their batch, no checks."""
    import pyarrow.csv as pacsv
    from django.db import transaction
    from django.utils import timezone

    from experiments.models import ExperimentBatch

    experiment, owner = fresh_experiment(run)
    started = time.perf_counter()
    table = pacsv.read_csv(io.BytesIO(body))
    rows = list(
        zip(
            table.column("user_id").to_pylist(),
            [ARM_OF[a] for a in table.column("variation").to_pylist()],
            table.column("converted").to_pylist(),
            strict=True,
        )
    )
    with transaction.atomic():
        batch = ExperimentBatch.objects.create(
            experiment=experiment,
            source="csv",
            sha256="-",
            rows=len(rows),
            uploaded_by=owner,
            uploaded_at=timezone.now(),
        )
        write(experiment, batch, rows)
    return time.perf_counter() - started


def baseline_bulk_insert(body: bytes, run: int) -> float:
    """The ORM's ``bulk_create``."""
    from experiments.models import ExperimentOutcome

    def write(experiment, batch, rows):
        ExperimentOutcome.objects.bulk_create(
            [
                ExperimentOutcome(
                    experiment=experiment, batch=batch, entity_key=u, arm=a, outcome=o
                )
                for u, a, o in rows
            ],
            batch_size=5000,
        )

    return _baseline(body, run, write)


def baseline_raw_insert(body: bytes, run: int) -> float:
    """PostgreSQL's COPY (elsewhere one parameterised INSERT run over all rows), no
    model instances: the strongest plain loader."""
    from django.db import connection

    columns = "experiment_id, batch_id, entity_key, arm, outcome, guardrails"

    def write(experiment, batch, rows):
        values = [(experiment.pk, batch.pk, u, a, o, "{}") for u, a, o in rows]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = f"COPY reviews_experimentoutcome ({columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO reviews_experimentoutcome ({columns}) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    values,
                )

    return _baseline(body, run, write)


def parse_only(body: bytes) -> float:
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    pacsv.read_csv(io.BytesIO(body))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", help="SQLite file (default bench/out/experiment-upload.sqlite3)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()
    _setup(args)
    from django.db import connection

    body = export_file()
    print(f"file: {sum(ARMS):,} rows, {len(body) / 1e6:.1f} MB; database: {connection.vendor}")
    product_page(body, 0)  # warm-up
    baseline_bulk_insert(body, 0)
    runs: dict[str, list[float]] = {"product upload": [], "product analysis": []}
    runs |= {"baseline bulk_create": [], "baseline raw insert": [], "parse only": []}
    verdicts = set()
    for run in range(1, args.repeats + 1):
        upload, analysis, verdict = product_page(body, run)
        runs["product upload"].append(upload)
        runs["product analysis"].append(analysis)
        verdicts.add(verdict)
        runs["baseline bulk_create"].append(baseline_bulk_insert(body, run))
        runs["baseline raw insert"].append(baseline_raw_insert(body, run))
        runs["parse only"].append(parse_only(body))
    print(f"verdict: {' / '.join(sorted(verdicts))}")
    print("| path | median s | min s | max s |\n| --- | --- | --- | --- |")
    for label, values in runs.items():
        print(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"experiment_upload_bench-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "rows": sum(ARMS),
                "database": connection.vendor,
                "verdicts": sorted(verdicts),
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"written: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
