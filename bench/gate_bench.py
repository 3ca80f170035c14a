"""The deployment gate's own cost per call, in-process (issue 13): the product's code path
(``POST /api/v1/gate/`` through the Django test client: token authentication, the role
check, the decision, the log row) with the revision-token cache and without it, and the
decision alone (``reviews.selectors.gate.gate_decision``), which is what a pipeline's call
cost before the cache.

    .venv/bin/python bench/gate_bench.py [--calls 300]

Runs against the database of the environment (DATABASE_URL; SQLite by default) and needs
the demo seeded (``manage.py seed_demo``): it asks for every production version in turn.
It writes gate calls (GateCall rows) and an API token: use a throw-away database. Prints
median, p95 and queries per call for each way; writes ``bench/out/gate_bench-<UTC>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.services import api_token_create  # noqa: E402
from inventory.models import ModelVersion  # noqa: E402
from reviews.selectors import revision_cache  # noqa: E402
from reviews.selectors.gate import gate_decision  # noqa: E402

OUT = ROOT / "bench" / "out"


def _summary(times: list[float], queries: int) -> dict:
    ordered = sorted(times)
    return {
        "calls": len(times),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "queries_per_call": queries,
    }


def _timed(fn, calls: int) -> list[float]:
    times = []
    for i in range(calls):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    versions = list(
        ModelVersion.objects.filter(environment="prod").select_related("model__use_case")
    )
    if not versions:
        print("No production version: seed the demo first (manage.py seed_demo).")
        return 2
    caller = User.objects.filter(groups__name="data-scientist", is_active=True).first()
    _, secret = api_token_create(user=caller, name=f"gate bench {datetime.now(UTC):%H%M%S}")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {secret}")

    def http(i: int):
        body = {"model_version": versions[i % len(versions)].pk, "environment": "prod"}
        response = client.post("/api/v1/gate/", json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content[:200]

    def decision(i: int):
        # A fresh row each time, as a call reads it (a reused instance keeps what it
        # loaded).
        version = ModelVersion.objects.select_related("model__use_case").get(
            pk=versions[i % len(versions)].pk
        )
        gate_decision(version, "prod")

    def queries(fn) -> int:
        with CaptureQueriesContext(connection) as captured:
            fn(0)
        return len(captured.captured_queries)

    results = {}
    with override_settings(GATE_CACHE_ENTRIES=4096):
        revision_cache.cache_clear()
        for i in range(len(versions)):
            http(i)  # one miss per version, then every call hits
        results["gate_call_cached"] = _summary(_timed(http, args.calls), queries(http))
        results["gate_call_cached"]["cache"] = revision_cache.cache_stats()
    with override_settings(GATE_CACHE_ENTRIES=0):
        results["gate_call_computed"] = _summary(_timed(http, args.calls), queries(http))
    decision_queries = queries(decision)
    results["decision_only"] = _summary(_timed(decision, args.calls), decision_queries)

    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "database": connection.vendor,
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
    }
    print(f"{len(versions)} production versions, {args.calls} calls each way, {machine}")
    for name, row in results.items():
        print(
            f"{name:20} median {row['median_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms  "
            f"queries/call {row['queries_per_call']}"
        )
    OUT.mkdir(exist_ok=True)
    path = OUT / f"gate_bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
