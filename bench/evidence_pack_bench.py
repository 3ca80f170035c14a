"""An evidence pack of a large use case in bounded memory (issue 15: "a pack for a
large use case (1,000 evidence files, 100k audit events) streams to disk in bounded
memory").

The world, made once in a scratch database (idempotent): the demo portfolio, and a
use case with 112 versions and 1,008 obligations each holding a stored evidence file
(16 KiB of random bytes), and 100,000 audit events about it. Then, side by side on the
same rows and files:

- **product**: ``documents.services.evidence_pack_build``, the worker's own code path
  (records, evidence, signatures, the audit segment, the manifest, ``verify.py``;
  stored once by SHA-256), for a pack asked for by ``evidence_pack_request``;
- **in memory** (the obvious way): every record set and every event loaded as lists
  and dumped as whole JSON documents, every file read whole, then ``ZipFile.writestr``;
- **floor**: the same rows through a raw cursor (``fetchmany``) and the same files,
  written with ``zipfile`` in chunks, with no hashing, no manifest and no checks;
- **verify**: ``python3 verify.py`` on the product's ZIP (the auditor's side).

Memory is the peak of Python's allocations (``tracemalloc``, a separate run of each so
that its overhead stays out of the times) and the process's peak RSS growth (Linux
``ru_maxrss`` read in a child process per run). Medians over ``--repeats`` runs.

    .venv/bin/python bench/evidence_pack_bench.py                # SQLite file in bench/out
    DATABASE_URL=postgres://... .venv/bin/python bench/evidence_pack_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bootstrap import django_setup  # noqa: E402

OUT = ROOT / "bench" / "out"
USE_CASE = "Bench: large evidence pack"
VERSIONS = 112
FILE_BYTES = 16 * 1024
EVENTS = 100_000


def make_world() -> int:
    """The large use case (made once); returns its id."""
    import datetime as dt
    import hashlib

    from django.contrib.auth.models import User
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from audit.services import audit_record_many
    from governance.models import Consideration, Obligation, PolicyVersion
    from inventory.models import MLModel, ModelVersion, Team, UseCase

    found = UseCase.objects.filter(name=USE_CASE).first()
    if found is not None:
        return found.pk
    owner = User.objects.get(username="data.scientist")
    use_case = UseCase.objects.create(
        name=USE_CASE,
        purpose="A use case with a long history, for measuring evidence packs.",
        team=Team.objects.order_by("pk").first(),
        business_owner=owner,
        technical_owner=owner,
        created_by=owner,
    )
    model = MLModel.objects.create(use_case=use_case, name="bench-model", created_by=owner)
    versions = ModelVersion.objects.bulk_create(
        ModelVersion(
            model=model,
            version_label=f"1.{i}",
            artifact_uri=f"s3://bench/1.{i}/model.pkl",
            artifact_sha256=hashlib.sha256(f"1.{i}".encode()).hexdigest(),
            framework="scikit-learn 1.6",
            registered_by=owner,
        )
        for i in range(VERSIONS)
    )
    policy = PolicyVersion.objects.filter(status="published").order_by("-number").first()
    now = timezone.now()
    rows = []
    for version in versions:
        for consideration in Consideration.objects.order_by("order"):
            data = os.urandom(FILE_BYTES)
            name = default_storage.save(
                f"obligations/evidence/bench/{version.pk}-{consideration.pk}.bin",
                _content(data),
            )
            rows.append(
                Obligation(
                    use_case=use_case,
                    model_version=version,
                    consideration=consideration,
                    level="medium",
                    why="Bench.",
                    policy_version=policy,
                    owner=owner,
                    status="evidence_submitted",
                    due_date=now.date() + dt.timedelta(days=30),
                    created_at=now,
                    evidence_file=name,
                    evidence_name=f"evidence-{version.pk}-{consideration.pk}.bin",
                    evidence_sha256=hashlib.sha256(data).hexdigest(),
                    evidence_size=len(data),
                    evidence_by=owner,
                    evidence_at=now,
                )
            )
    Obligation.objects.bulk_create(rows, batch_size=500)
    for start in range(0, EVENTS, 10_000):
        audit_record_many(
            events=[
                {
                    "action": "update",
                    "object_type": "governance.obligation",
                    "object_id": rows[(start + i) % len(rows)].pk,
                    "object_repr": "bench obligation",
                    "parent_type": "inventory.usecase",
                    "parent_id": use_case.pk,
                    "changes": {"status": ["open", "evidence_submitted"], "n": start + i},
                }
                for i in range(10_000)
            ],
            reason="bench history",
        )
    return use_case.pk


def _content(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


def run_product(use_case_id: int) -> dict:
    from django.contrib.auth.models import User

    from documents import services
    from documents.models import EvidencePack
    from inventory.models import UseCase

    auditor = User.objects.get(username="auditor")
    pack = services.evidence_pack_request(
        user=auditor, scope="use_case", use_case=UseCase.objects.get(pk=use_case_id)
    )
    services.evidence_pack_build(pack_id=pack.pk)
    pack = EvidencePack.objects.get(pk=pack.pk)
    assert pack.status == "done", pack.error
    return {"path": pack.file.path, "size": pack.size, "counts": pack.counts}


def _sets(use_case_id: int):
    from documents.models import EvidencePack
    from documents.selectors.packs import pack_evidence_files, pack_record_sets

    sets = pack_record_sets(EvidencePack(scope="use_case", use_case_id=use_case_id))
    return sets, pack_evidence_files(sets)


def run_in_memory(use_case_id: int, target: Path) -> dict:
    """The obvious way: everything loaded, then written."""
    from django.core import serializers
    from django.core.files.storage import default_storage

    from audit.models import AuditEvent

    sets, evidence = _sets(use_case_id)
    documents = {f"records/{label}.json": serializers.serialize("json", qs) for label, qs in sets}
    events = list(AuditEvent.objects.order_by("seq").values())
    documents["audit/events.json"] = json.dumps(events, default=str)
    files = {}
    for item in evidence:
        with default_storage.open(item.name, "rb") as handle:
            files[f"evidence/{item.folder}/{Path(item.filename).name}"] = handle.read()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in documents.items():
            archive.writestr(name, text)
        for name, data in files.items():
            archive.writestr(name, data)
    return {"size": target.stat().st_size}


def run_floor(use_case_id: int, target: Path) -> dict:
    """Raw rows and files into a ZIP in chunks: no hashing, no manifest, no checks."""
    from django.core.files.storage import default_storage
    from django.db import connection

    sets, evidence = _sets(use_case_id)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for label, queryset in sets:
            sql, params = queryset.values_list().query.sql_with_params()
            with connection.cursor() as cursor, archive.open(f"records/{label}", "w") as out:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(2000):
                    out.write(json.dumps(rows, default=str).encode())
        with connection.cursor() as cursor, archive.open("audit/events", "w") as out:
            cursor.execute("SELECT * FROM governance_auditevent ORDER BY seq")
            while rows := cursor.fetchmany(2000):
                out.write(json.dumps(rows, default=str).encode())
        for item in evidence:
            name = f"evidence/{item.folder}/{Path(item.filename).name}"
            with default_storage.open(item.name, "rb") as handle, archive.open(name, "w") as out:
                while chunk := handle.read(1024 * 1024):
                    out.write(chunk)
    return {"size": target.stat().st_size}


def child(args) -> None:
    """One measured run in this process: print its figures as JSON."""
    import resource

    django_setup(db_name="evidence-pack", db_path=args.db, media=OUT / "evidence-pack-media")
    use_case_id = make_world()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.traced:
        tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "pack.zip"
        if args.child == "product":
            result = run_product(use_case_id)
        elif args.child == "in-memory":
            result = run_in_memory(use_case_id, target)
        else:
            result = run_floor(use_case_id, target)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if args.traced else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "py_peak_mb": peak / 2**20 if peak is not None else None,
                "rss_growth_mb": (after - before) / 1024,
            }
            | result
        )
    )


def _spawn(tool: str, args, traced: bool) -> dict:
    command = [sys.executable, __file__, "--child", tool]
    if traced:
        command.append("--traced")
    if args.db:
        command += ["--db", args.db]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--db", default="")
    parser.add_argument("--child", choices=["product", "in-memory", "floor"])
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    django_setup(db_name="evidence-pack", db_path=args.db, media=OUT / "evidence-pack-media")
    make_world()  # once, before anything is timed
    results = {}
    for tool in ("product", "in-memory", "floor"):
        runs = [_spawn(tool, args, traced=False) for _ in range(args.repeats)]
        traced = _spawn(tool, args, traced=True)
        results[tool] = {
            "median_s": statistics.median(r["seconds"] for r in runs),
            "runs_s": [round(r["seconds"], 2) for r in runs],
            "rss_growth_mb": statistics.median(r["rss_growth_mb"] for r in runs),
            "py_peak_mb": traced["py_peak_mb"],
            "zip_mb": runs[-1]["size"] / 2**20,
        }
        if tool == "product":
            results[tool]["counts"] = runs[-1]["counts"]
            pack_path = runs[-1]["path"]
    started = time.perf_counter()
    checked = subprocess.run(
        ["python3", "-I", str(ROOT / "core" / "evidence_verifier.py"), pack_path],
        capture_output=True,
        text=True,
    )
    results["verify"] = {
        "seconds": time.perf_counter() - started,
        "exit": checked.returncode,
        "last_line": checked.stdout.strip().splitlines()[-1],
    }
    from django.db import connection

    results["database"] = connection.vendor
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"evidence-pack-{connection.vendor}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
