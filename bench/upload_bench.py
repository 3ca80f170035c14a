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


def multipart(path: Path, version_id: int) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    mapping = {"outcome": "y", "prediction": "y_hat", "score": "score", "sensitive": ["race"]}
    mapping["sensitive"].append("sex")
    parts = []
    for name, value in (("model_version", str(version_id)), ("mapping", json.dumps(mapping))):
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


def _validate_child(code: str, db_path: str, media: str, dataset_id: int, queue) -> None:
    """In a fresh process (its peak memory is the worker's, not the bench's): the
    validation job of ``dataset_id``, as a worker runs it."""
    sys.path.insert(0, code)
    from bench.bootstrap import django_setup

    django_setup(db_name="", db_path=db_path, media=Path(media), seed=False)
    from fairness import services as svc

    start_mib = peak_mib()
    t = time.perf_counter()
    done = svc.scored_dataset_validate(dataset_id=dataset_id)
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

    ScoredDataset.objects.filter(original_name__startswith="upload-bench-").delete()
    shutil.rmtree(Path(where["media"]) / "scored-data", ignore_errors=True)  # a fresh copy
    with override_settings(SCORED_DATA_MAX_BYTES=8 * 1024**3):
        t = time.perf_counter()
        response = client.post("/api/v1/scored-datasets/", body, content_type=content_type)
        request_s = time.perf_counter() - t
    out = {"status_code": response.status_code, "request_s": round(request_s, 2)}
    answer = response.json()
    out["answer"] = answer.get("status") or str(answer)[:200]
    if answer.get("status") == "validating":
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(
            target=_validate_child,
            args=(where["code"], where["db"], where["media"], answer["id"], queue),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", default=str(HERE), help="the product checkout to measure")
    parser.add_argument("--bad", choices=["outcome", "score"], default="outcome")
    parser.add_argument("--skip-valid", action="store_true")
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
    where = {"code": str(code), "db": db, "media": str(media)}
    lead, version = _lead_and_version()
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(lead)
    results = {}
    for bad in ("", args.bad):
        if not bad and args.skip_valid:
            continue
        kind = f"bad {bad} in the last row" if bad else "valid"
        suffix = {"": "ok", "outcome": "bad"}.get(bad, f"bad-{bad}")
        path = out_dir / f"upload-bench-{suffix}-{args.rows}.csv"
        if not path.exists():
            make_csv(path, args.rows, bad_last=bad)
        body, content_type = multipart(path, version.pk)
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
        "rows": args.rows,
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_version()}",
        "load_average": os.getloadavg(),
        "results": results,
    }
    target = out_dir / f"upload-bench-{label}-{args.rows}-{args.bad}.json"
    target.write_text(json.dumps(report, indent=1))
    print("written", target)


if __name__ == "__main__":
    main()
