"""A large scored-data upload: how long the web request takes, and how long until the
data is validated (issue 18: "a 10M-row CSV whose last row is bad takes 20 s to be
refused ... validate uploads in a worker").

Each run posts the same multipart body to the product's API (``POST
/api/v1/scored-datasets/``) through Django's test client, signed in as a governance lead
(a scratch database: migrated, one model version made with the test factories). The
body is encoded once, outside the timing: what is timed is what a web process does with
it (Django spooling the file, then the view). Then, when the answer is ``validating``
(the product after issue 18), the queued validation job runs as a worker runs it
(``fairness.services.scored_dataset_validate``) in a fresh child process, timed, with
the child's peak RSS. Two files: one valid, and the same with a bad last row (an
outcome of 2).

    .venv/bin/python bench/upload_bench.py --rows 10000000
    .venv/bin/python bench/upload_bench.py --rows 10000000 --code /path/to/older/checkout

``--code`` measures another checkout of the product (e.g. the one before issue 18) with
this script; each checkout gets its own scratch database in bench/out. Medians over
``--repeats`` runs; results printed and written to bench/out/upload-bench-*.json.

``--target monitoring`` does the same for a production batch of a monitoring
configuration (``POST /api/v1/monitoring-configs/<id>/batches/``; the worker's job is
``monitoring.services.batch_validation.monitoring_batch_validate``): timestamps, three
features, the score and the prediction, the bad last row a timestamp that is not one.

    .venv/bin/python bench/upload_bench.py --target monitoring --rows 5000000 --skip-valid
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def make_csv(path: Path, rows: int, *, bad_last: str = "") -> None:
    """``rows`` scored rows (outcome, prediction, score, race, sex), written by pyarrow;
    ``bad_last``: the last row's outcome is 2 ("outcome", read as a number and refused
    by the check of the values) or its score is "n/a" ("score": pyarrow's typed read
    stops there without saying where)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401 - pa.compute
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(1)
    chunk = 1_000_000
    with pacsv.CSVWriter(
        str(path),
        pa.schema(
            [
                ("y", pa.int8()),
                ("y_hat", pa.int8()),
                ("score", pa.string() if bad_last == "score" else pa.float64()),
                ("race", pa.string()),
                ("sex", pa.string()),
            ]
        ),
    ) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            y = rng.integers(0, 2, n).astype(np.int8)
            score = pa.array(rng.random(n).round(4))
            if bad_last == "outcome" and start + n == rows:
                y[-1] = 2
            if bad_last == "score" and start + n == rows:
                text = pa.compute.cast(score, pa.string()).to_pylist()
                score = pa.array(text[:-1] + ["n/a"])
            writer.write_table(
                pa.table(
                    {
                        "y": y,
                        "y_hat": rng.integers(0, 2, n).astype(np.int8),
                        "score": score,
                        "race": pa.array(rng.choice(["A", "B", "C", "D"], n)),
                        "sex": pa.array(rng.choice(["F", "M"], n)),
                    }
                )
            )


def make_batch_csv(path: Path, rows: int, *, bad_last: str = "") -> None:
    """``rows`` production rows of a monitoring configuration (``ts`` with a zone over
    one week, ``age``, ``income``, ``region``, ``score``, ``y_hat``); ``bad_last``: the
    last row's timestamp is "yesterday"."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(1)
    chunk = 1_000_000
    start = np.datetime64("2026-01-05T00:00:00", "s")
    schema = [("ts", pa.string()), ("age", pa.float64()), ("income", pa.float64())]
    schema += [("region", pa.string()), ("score", pa.float64()), ("y_hat", pa.int8())]
    with pacsv.CSVWriter(str(path), pa.schema(schema)) as writer:
        for first in range(0, rows, chunk):
            n = min(chunk, rows - first)
            seconds = (np.arange(first, first + n) * (7 * 86400 // max(rows, 1))).astype(int)
            ts = pa.array(start + seconds).cast(pa.timestamp("s", tz="UTC")).cast(pa.string())
            if bad_last and first + n == rows:
                ts = pa.array(ts.to_pylist()[:-1] + ["yesterday"])
            score = rng.random(n).round(4)
            columns = {
                "ts": ts,
                "age": rng.normal(40, 8, n).round(),
                "income": rng.lognormal(10, 0.4, n).round(-2),
                "region": pa.array(rng.choice(["north", "south", "east", "west"], n)),
                "score": score,
                "y_hat": (score >= 0.5).astype(np.int8),
            }
            writer.write_table(pa.table(columns, schema=pa.schema(schema)))


def multipart(path: Path, fields: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    head = "".join(parts) + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def peak_mib() -> float:
    """This process's peak RSS (``VmHWM``: reset by exec, unlike ``ru_maxrss``, which a
    spawned child inherits from the parent that forked it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _validate_child(
    code: str, db_path: str, media: str, dataset_id: int, queue, target: str = "bias"
) -> None:
    """In a fresh process (its peak memory is the worker's, not the bench's): the
    validation job of ``dataset_id``, as a worker runs it."""
    sys.path.insert(0, code)
    from bench.bootstrap import django_setup

    django_setup(db_name="", db_path=db_path, media=Path(media), seed=False)
    if target == "monitoring":
        from monitoring.services.batch_validation import monitoring_batch_validate as validate
    else:
        from fairness.services import scored_dataset_validate as validate

    start_mib = peak_mib()
    t = time.perf_counter()
    done = validate(dataset_id=dataset_id)
    queue.put(
        {
            "validate_s": round(time.perf_counter() - t, 2),
            "validated": done.get("status"),
            "error": done.get("error", ""),
            "worker_start_mib": round(start_mib),
            "worker_peak_mib": round(peak_mib()),
        }
    )


def run_once(client, body: bytes, content_type: str, where: dict) -> dict:
    import multiprocessing

    from django.test import override_settings

    from fairness.models import ScoredDataset
    from monitoring.models import MonitoringBatch

    MonitoringBatch.objects.filter(dataset__original_name__startswith="upload-bench-").delete()
    ScoredDataset.objects.filter(original_name__startswith="upload-bench-").delete()
    shutil.rmtree(Path(where["media"]) / "scored-data", ignore_errors=True)  # a fresh copy
    with override_settings(SCORED_DATA_MAX_BYTES=8 * 1024**3):
        t = time.perf_counter()
        response = client.post(where["url"], body, content_type=content_type)
        request_s = time.perf_counter() - t
    out = {"status_code": response.status_code, "request_s": round(request_s, 2)}
    answer = response.json()
    out["answer"] = answer.get("status") or str(answer)[:200]
    if answer.get("status") == "validating":
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(
            target=_validate_child,
            args=(
                where["code"],
                where["db"],
                where["media"],
                answer.get("dataset", answer["id"]),
                queue,
                where["target"],
            ),
        )
        child.start()
        out.update(queue.get())
        child.join()
    return out


def _lead_and_version():
    """A migrated scratch database with a governance lead and one model version (made
    with the test factories: the upload needs nothing else, and the demo's seeding would
    cost minutes on a loaded machine)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from accounts.roles import Role
    from inventory.models import ModelVersion
    from tests.factories import ModelVersionFactory, user_with_role

    call_command("migrate", verbosity=0)
    lead = User.objects.filter(username="bench.lead").first()
    if lead is None:
        lead = user_with_role(Role.GOVERNANCE_LEAD, username="bench.lead", is_staff=True)
    version = ModelVersion.objects.order_by("pk").first() or ModelVersionFactory()
    return lead, version


def _monitoring_config(version, lead):
    """The version's monitoring configuration: a small reference uploaded, validated and
    profiled the product's way (services, the worker's functions called in-process)."""
    import io

    import pyarrow.csv as pacsv
    from django.core.files.base import ContentFile

    from fairness import services as bias_svc
    from monitoring import services as svc
    from monitoring.models import MonitoringConfig

    config = MonitoringConfig.objects.filter(model_version=version).first()
    if config is not None:
        return config
    path = HERE / "bench" / "out" / "upload-bench-reference.csv"
    make_batch_csv(path, 20_000)
    table = pacsv.read_csv(path)
    table = table.append_column("y", table.column("y_hat"))
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    mapping = {"outcome": "y", "prediction": "y_hat", "score": "score", "sensitive": ["region"]}
    reference, _ = bias_svc.scored_dataset_upload(
        version=version,
        by=lead,
        file=ContentFile(out.getvalue(), name="reference.csv"),
        mapping=mapping,
        purpose="reference",
    )
    bias_svc.scored_dataset_validate(dataset_id=reference.pk)
    reference.refresh_from_db()
    config, _ = svc.monitoring_config_save(
        version=version,
        by=lead,
        reference=reference,
        numeric_features=["age", "income"],
        categorical_features=["region"],
        timestamp_column="ts",
        prediction_column="y_hat",
        score_column="score",
        sensitive_columns=[],
    )
    svc.reference_profile_build(profile_id=svc.reference_profile_of(config).pk)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", default=str(HERE), help="the product checkout to measure")
    parser.add_argument("--bad", choices=["outcome", "score"], default="outcome")
    parser.add_argument("--skip-valid", action="store_true")
    parser.add_argument("--target", choices=["bias", "monitoring"], default="bias")
    args = parser.parse_args()
    code = Path(args.code).resolve()
    sys.path.insert(0, str(code))
    out_dir = HERE / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    label = "this" if code == HERE else code.name
    media = out_dir / f"upload-bench-media-{label}"
    from bench.bootstrap import django_setup

    db = str(out_dir / f"upload-bench-{label}.sqlite3")
    django_setup(db_name=f"upload-bench-{label}", db_path=db, media=media, seed=False)
    lead, version = _lead_and_version()
    where = {"code": str(code), "db": db, "media": str(media), "target": args.target}
    if args.target == "monitoring":
        config = _monitoring_config(version, lead)
        where["url"] = f"/api/v1/monitoring-configs/{config.pk}/batches/"
        fields = {}
        make, prefix, bad_kind = make_batch_csv, "upload-bench-batch", "timestamp"
    else:
        where["url"] = "/api/v1/scored-datasets/"
        mapping = {"outcome": "y", "prediction": "y_hat", "score": "score"}
        mapping["sensitive"] = ["race", "sex"]
        fields = {"model_version": str(version.pk), "mapping": json.dumps(mapping)}
        make, prefix, bad_kind = make_csv, "upload-bench", args.bad
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(lead)
    results = {}
    for bad in ("", bad_kind):
        if not bad and args.skip_valid:
            continue
        kind = f"bad {bad} in the last row" if bad else "valid"
        suffix = {"": "ok", "outcome": "bad"}.get(bad, f"bad-{bad}")
        path = out_dir / f"{prefix}-{suffix}-{args.rows}.csv"
        if not path.exists():
            make(path, args.rows, bad_last=bad)
        body, content_type = multipart(path, fields)
        runs = [run_once(client, body, content_type, where) for _ in range(args.repeats)]
        del body
        summary = {
            "file_mib": round(path.stat().st_size / 2**20),
            "request_s_median": statistics.median(r["request_s"] for r in runs),
            "runs": runs,
        }
        if all("validate_s" in r for r in runs):
            summary["validate_s_median"] = statistics.median(r["validate_s"] for r in runs)
            summary["worker_peak_mib_median"] = statistics.median(
                r["worker_peak_mib"] for r in runs
            )
        results[kind] = summary
        print(kind, json.dumps(summary, indent=1))
    report = {
        "code": str(code),
        "target": args.target,
        "rows": args.rows,
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_version()}",
        "load_average": os.getloadavg(),
        "results": results,
    }
    target = out_dir / f"{prefix}-{label}-{args.rows}-{bad_kind}.json"
    target.write_text(json.dumps(report, indent=1))
    print("written", target)


if __name__ == "__main__":
    main()
