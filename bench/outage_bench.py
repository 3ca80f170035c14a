"""Writes during a broker outage (issue 13), standard library only.

    # a dashboard (web + worker + beat) whose CELERY_BROKER_URL is Redis on PORT, where
    # nothing listens yet: the outage
    CELERY_BROKER_URL=redis://127.0.0.1:PORT/0 make run
    .venv/bin/python bench/outage_bench.py --redis-port PORT [--url http://127.0.0.1:8000]
        [--threads 4] [--requests 10] [--settle 300]

1. ``outage``: threads x requests ``POST /api/v1/scored-datasets/{id}/summaries/``, each
   with new options (so each creates a summary and queues its job) while the broker
   refuses connections; counts the 5xx (every one would be a committed request answered
   500 without the task outbox).
2. Starts ``redis-server`` on PORT (no persistence; stopped at the end): the broker is
   back. The worker reconnects, beat's ``jobs_sweep`` publishes the waiting jobs.
3. ``recovery``: waits (up to ``--settle`` s) until every summary the outage's requests
   created is done or failed; a summary still queued or running then is a lost job.

Writes the figures to ``bench/out/outage_bench-<UTC time>.json``. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from concurrency_bench import OUT, Api, report, run_parallel, wait_for_summaries  # noqa: E402


def outage_burst(args, token: str, dataset: int) -> tuple[dict, list[int]]:
    base = random.randint(1_000, 900_000)
    url = f"/api/v1/scored-datasets/{dataset}/summaries/"
    jobs = [
        [
            ("POST", url, {"min_group_size": base + t * args.requests + k})
            for k in range(args.requests)
        ]
        for t in range(args.threads)
    ]
    created: list[int] = []
    lock = threading.Lock()

    def client():
        api = Api(args.url, token)
        original = api.call

        def call(method, path, body=None):
            status, elapsed, payload = original(method, path, body)
            if status in (200, 202) and "id" in payload:
                with lock:
                    created.append(payload["id"])
            return status, elapsed, payload

        api.call = call
        return api

    started = time.perf_counter()
    results = run_parallel(jobs, client)
    return report("outage", results, time.perf_counter() - started), sorted(set(created))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--user", default="data.scientist")
    parser.add_argument("--password", default="governance-demo")
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--settle", type=float, default=300.0)
    args = parser.parse_args()
    host = urlsplit(args.url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        print("Only a dashboard on this machine (loopback) may be benchmarked.", file=sys.stderr)
        return 2
    server = shutil.which("redis-server")
    if server is None:
        print("redis-server is not installed.", file=sys.stderr)
        return 2

    status, _, body = Api(args.url).call(
        "POST", "/api/v1/auth/token/", {"username": args.user, "password": args.password}
    )
    if status != 200 or "token" not in body:
        print(f"Cannot get a token for {args.user} (HTTP {status}).", file=sys.stderr)
        return 2
    token = body["token"]
    api = Api(args.url, token)
    _, _, datasets = api.call("GET", "/api/v1/scored-datasets/?page_size=50")
    evaluation = [d for d in datasets.get("results", []) if d.get("purpose") == "evaluation"]
    if not evaluation:
        print("The user sees no evaluation dataset: run seed_demo first.", file=sys.stderr)
        return 2

    row, created = outage_burst(args, token, evaluation[0]["id"])
    print(f"broker down: {len(created)} summaries created; starting redis on {args.redis_port}")
    workdir = tempfile.mkdtemp(prefix="outage-bench-redis-")
    redis = subprocess.Popen(
        [
            server,
            "--port",
            str(args.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        back = time.monotonic()
        recovery = wait_for_summaries(api, created, args.settle)
        recovery["scenario"] = "recovery"
        recovery["seconds_after_broker_back"] = round(time.monotonic() - back, 1)
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    rows = [row, recovery]
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"outage_bench-{stamp}.json"
    load = os.getloadavg()
    path.write_text(json.dumps({"url": args.url, "load_average": load, "rows": rows}, indent=2))
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; written to {path}")
    return 1 if row["errors_5xx"] or recovery["stuck"] else 0


if __name__ == "__main__":
    sys.exit(main())
