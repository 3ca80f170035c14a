"""Concurrent writes against a running dashboard (issue 13's burst), standard library only.

    make run                                   # in another terminal: the embedded default
    .venv/bin/python bench/concurrency_bench.py [--url http://127.0.0.1:8000]
        [--user data.scientist] [--password governance-demo] [--clients 2,4]
        [--patches 60] [--summary-threads 6] [--summary-requests 4]

Scenarios, one after another:
- ``patch-N``: N parallel clients share 60 ``PATCH /api/v1/use-cases/{id}/`` (the user's
  own team's use cases, round robin);
- ``summaries``: 6 threads x 4 ``POST /api/v1/scored-datasets/{id}/summaries/``, each
  with a new ``min_group_size`` (so each one creates and queues a summary);
- then waits (up to ``--settle`` s) for the summaries it queued to leave queued/running:
  the worker's side of the burst.

Prints per scenario the requests, the 5xx count, the status codes, the median and p95
latency; writes the same to ``bench/out/concurrency_bench-<UTC time>.json``. Only
loopback addresses are accepted. Each client is a thread with its own connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

OUT = Path(__file__).resolve().parent / "out"


class Api:
    """One client: its own HTTP connection, token authentication."""

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, float, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            return 0, time.perf_counter() - started, {}
        elapsed = time.perf_counter() - started
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        return status, elapsed, payload


def run_parallel(jobs_per_client: list[list[tuple[str, str, dict]]], make_client) -> list:
    """Run each client's jobs in its own thread, all starting together; [(status, s)]."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs_per_client))

    def client(jobs):
        api = make_client()
        barrier.wait()
        for method, path, body in jobs:
            status, elapsed, _ = api.call(method, path, body)
            with lock:
                results.append((status, elapsed))

    threads = [threading.Thread(target=client, args=(jobs,)) for jobs in jobs_per_client]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def report(name: str, results: list[tuple[int, float]], wall: float) -> dict:
    codes: dict[str, int] = {}
    for status, _ in results:
        codes[str(status)] = codes.get(str(status), 0) + 1
    times = sorted(e for _, e in results)
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)] if times else 0.0
    row = {
        "scenario": name,
        "requests": len(results),
        "errors_5xx": sum(1 for s, _ in results if s >= 500),
        "failed_connections": sum(1 for s, _ in results if s == 0),
        "codes": codes,
        "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
        "p95_ms": round(p95 * 1000, 1),
        "wall_s": round(wall, 2),
    }
    print(
        f"{name:<12} {row['requests']:>4} requests  5xx {row['errors_5xx']:>3}  "
        f"median {row['median_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  "
        f"wall {row['wall_s']:>6} s  codes {codes}",
        flush=True,
    )
    return row


def wait_for_summaries(api: Api, ids: list[int], settle: float) -> dict:
    """Poll the summaries the burst queued until none is queued or running."""
    started = time.monotonic()
    states: dict[int, str] = {}
    while True:
        for pk in ids:
            if states.get(pk) in ("done", "failed"):
                continue
            status, _, body = api.call("GET", f"/api/v1/bias-summaries/{pk}/")
            states[pk] = body.get("status", f"http {status}") if status == 200 else f"http {status}"
        pending = [pk for pk in ids if states[pk] not in ("done", "failed")]
        if not pending or time.monotonic() - started > settle:
            break
        time.sleep(1)
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    row = {
        "scenario": "worker",
        "summaries": len(ids),
        "states": counts,
        "stuck": len([pk for pk in ids if states[pk] not in ("done", "failed")]),
        "seconds_to_settle": round(time.monotonic() - started, 1),
    }
    print(
        f"worker       {len(ids)} summaries queued by the burst -> {counts} "
        f"after {row['seconds_to_settle']} s",
        flush=True,
    )
    return row


def patch_burst(api: Api, args, token: str, cases: list[int], n: int) -> dict:
    """n parallel clients share args.patches PATCHes; the demo's text is put back after."""
    jobs: list[list] = [[] for _ in range(n)]
    originals = {}
    for i in range(args.patches):
        pk = cases[i % len(cases)]
        if pk not in originals:
            _, _, current = api.call("GET", f"/api/v1/use-cases/{pk}/")
            originals[pk] = current.get("purpose", "")
        body = {"purpose": f"{originals[pk] or ''} [bench {i}]"}
        jobs[i % n].append(("PATCH", f"/api/v1/use-cases/{pk}/", body))
    started = time.perf_counter()
    results = run_parallel(jobs, lambda: Api(args.url, token))
    row = report(f"patch-{n}", results, time.perf_counter() - started)
    for pk, purpose in originals.items():
        api.call("PATCH", f"/api/v1/use-cases/{pk}/", {"purpose": purpose})
    return row


def summary_burst(args, token: str, dataset: int, api: Api) -> list[dict]:
    """Threads x requests of new bias summaries, then the worker's side of it."""
    base = random.randint(1_000, 900_000)  # new options each run: each request queues
    url = f"/api/v1/scored-datasets/{dataset}/summaries/"
    jobs = [
        [
            ("POST", url, {"min_group_size": base + t * args.summary_requests + k})
            for k in range(args.summary_requests)
        ]
        for t in range(args.summary_threads)
    ]
    queued: list[int] = []
    lock = threading.Lock()

    def summary_client():
        client = Api(args.url, token)
        original = client.call

        def call(method, path, body=None):
            status, elapsed, payload = original(method, path, body)
            if status in (200, 202) and "id" in payload:
                with lock:
                    queued.append(payload["id"])
            return status, elapsed, payload

        client.call = call
        return client

    started = time.perf_counter()
    results = run_parallel(jobs, summary_client)
    row = report("summaries", results, time.perf_counter() - started)
    return [row, wait_for_summaries(api, sorted(set(queued)), args.settle)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--user", default="data.scientist")
    parser.add_argument("--password", default="governance-demo")
    parser.add_argument("--clients", default="2,4", help="parallel PATCH clients, per scenario")
    parser.add_argument("--patches", type=int, default=60)
    parser.add_argument("--summary-threads", type=int, default=6)
    parser.add_argument("--summary-requests", type=int, default=4)
    parser.add_argument("--settle", type=float, default=300.0)
    args = parser.parse_args()

    host = urlsplit(args.url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        print("Only a dashboard on this machine (loopback) may be benchmarked.", file=sys.stderr)
        return 2

    login = Api(args.url)
    status, _, body = login.call(
        "POST", "/api/v1/auth/token/", {"username": args.user, "password": args.password}
    )
    if status != 200 or "token" not in body:
        print(f"Cannot get a token for {args.user} (HTTP {status}).", file=sys.stderr)
        return 2
    token = body["token"]
    api = Api(args.url, token)
    _, _, me_cases = api.call("GET", "/api/v1/use-cases/?page_size=50")
    # the use cases this user may change (a PATCH of the text it already has, one by one)
    cases = [
        c["id"]
        for c in me_cases.get("results", [])
        if api.call("PATCH", f"/api/v1/use-cases/{c['id']}/", {"purpose": c["purpose"]})[0] == 200
    ]
    _, _, datasets = api.call("GET", "/api/v1/scored-datasets/?page_size=50")
    evaluation = [d for d in datasets.get("results", []) if d.get("purpose") == "evaluation"]
    if not cases or not evaluation:
        print("The user sees no use case or no evaluation dataset: run seed_demo first.")
        return 2

    rows = [patch_burst(api, args, token, cases, int(n)) for n in args.clients.split(",") if n]
    rows += summary_burst(args, token, evaluation[0]["id"], api)

    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"concurrency_bench-{stamp}.json"
    load = os.getloadavg()
    path.write_text(
        json.dumps({"url": args.url, "load_average": load, "rows": rows}, indent=2) + "\n"
    )
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; written to {path}")
    return 1 if any(r.get("errors_5xx") or r.get("stuck") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
