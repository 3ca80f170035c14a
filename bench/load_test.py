"""A mixed load against a running dashboard (issue 13's load test), standard library only.

    make prod   (or make run)                  # in another terminal, demo data seeded
    .venv/bin/python bench/load_test.py [--url http://127.0.0.1:8000] [--users 50]
        [--duration 300] [--gate-rate 10] [--settle 300] [--behind-proxy]

    bench/load_prod.sh [USERS] [SECONDS]       # the whole production run, see there

Each simulated user is a thread with its own connection and its own think time. The mix,
scaled to ``--users`` (50 by default: 20 / 4 / 18 / 8):

- **risk officers, approvers and auditors browsing** (session log-in through the login
  form, then the home page, the inventory, use case and version pages, pending approvals,
  the gate log, periodic reviews and the audit trail, 1-3 s apart);
- **risk officers signing** (session; every 20-40 s a pending request they may sign is
  rejected with a reason, through the sign endpoint with the password typed again: the
  Part 11 path, password hash included);
- **data scientists** (API token): register a version of one of their models, ask for its
  move to QA, upload a scored CSV of 2,000 rows and request its bias summary; then pause
  ``--scientist-pause`` seconds (20-40 by default: a person between two runs of their
  pipeline, still about 30 versions a minute across 18 people; ``--scientist-pause 3,6``
  is the stress mix, a version every few seconds per person);
- **pipelines** calling ``POST /api/v1/gate/`` for the production versions, together
  ``--gate-rate`` calls a second.

At the end it waits up to ``--settle`` s for every bias summary it queued to finish:
a summary still queued or running then is a lost job. Prints per kind the requests,
5xx, failed connections, p50/p95/p99, and the load average sampled every 5 s; writes the
same to ``bench/out/load_test-<UTC time>.json``. Exit 1 on any 5xx, failed connection or
lost job. Only loopback addresses are accepted. It writes versions, requests, scored
datasets and summaries: run it on a throw-away database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

OUT = Path(__file__).resolve().parent / "out"
PASSWORD_DEFAULT = "governance-demo"  # noqa: S105 - the demo log-ins' public password
PAGES = ("/", "/inventory/", "/reviews/", "/reviews/gate/", "/reviews/periodic-reviews/", "/audit/")


class Client:
    """One user's connection: token or session (cookies + CSRF) authentication.

    ``behind_proxy``: every request carries ``X-Forwarded-Proto: https``, as from a
    TLS-terminating proxy (the production topology with DJANGO_TRUST_X_FORWARDED_PROTO).
    """

    behind_proxy = False

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.token = token
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.reused = False  # the connection has served a response and stayed open

    def call(self, method, path, body=None, *, form=None, files=None, headers=None):
        """(status, seconds, raw body). Status 0 is a failed connection."""
        hdrs = {"Accept": "application/json, text/html"}
        data = None
        if body is not None:
            data, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif files is not None:
            data, hdrs["Content-Type"] = _multipart(files)
        scheme = "https" if self.behind_proxy else "http"
        if self.behind_proxy:
            hdrs["X-Forwarded-Proto"] = "https"
        if self.token:
            hdrs["Authorization"] = f"Token {self.token}"
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method != "GET" and "csrftoken" in self.cookies:
                hdrs["X-CSRFToken"] = self.cookies["csrftoken"]
                hdrs["Referer"] = f"{scheme}://{self.host}:{self.port}/"
                hdrs["Origin"] = f"{scheme}://{self.host}:{self.port}"
        hdrs.update(headers or {})
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection (gunicorn's keepalive is
                # 2 s; a user thinks longer): reconnect and send again, once, as browsers
                # and HTTP libraries do. A second failure counts.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2 or not self.reused:
                    return 0, time.perf_counter() - started, b""
                self.reused = False
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                self.reused = False
                return 0, time.perf_counter() - started, b""
        self.reused = not response.will_close
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response.status, time.perf_counter() - started, raw

    def json(self, method, path, body=None, **kw):
        status, elapsed, raw = self.call(method, path, body, **kw)
        try:
            return status, elapsed, json.loads(raw) if raw else {}
        except ValueError:
            return status, elapsed, {}

    def login(self, username: str, password: str) -> bool:
        self.call("GET", "/accounts/login/")
        status, _, _ = self.call(
            "POST",
            "/accounts/login/",
            form={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            },
        )
        return status == 302 and "sessionid" in self.cookies


def _multipart(files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in files.items():
        if isinstance(value, tuple):  # (filename, bytes, content type)
            filename, content, ctype = value
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
            )
            parts.append(head.encode() + content + b"\r\n")
        else:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(head.encode() + str(value).encode() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def scored_csv(rows: int, seed: int) -> bytes:
    """A scored evaluation file with a planted disparity (two groups, two sexes)."""
    rnd = random.Random(seed)
    lines = ["y,y_hat,race,sex"]
    for _ in range(rows):
        race = rnd.choice(("A", "B"))
        sex = rnd.choice(("F", "M"))
        y = int(rnd.random() < 0.4)
        bias = 0.15 if race == "B" else 0.0
        y_hat = int(rnd.random() < (0.7 if y else 0.2) + bias)
        lines.append(f"{y},{y_hat},{race},{sex}")
    return ("\n".join(lines) + "\n").encode()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: dict[str, list[tuple[int, float]]] = {}
        self.pages: dict[str, list[tuple[int, float]]] = {}  # the "page" rows, by page
        self.summaries: list[int] = []
        self.notes: dict[str, int] = {}

    def add(self, kind: str, status: int, elapsed: float):
        with self.lock:
            self.rows.setdefault(kind, []).append((status, elapsed))

    def add_page(self, page: str, status: int, elapsed: float):
        self.add("page", status, elapsed)
        with self.lock:
            self.pages.setdefault(page, []).append((status, elapsed))

    def note(self, what: str):
        with self.lock:
            self.notes[what] = self.notes.get(what, 0) + 1


def _pct(times: list[float], q: float) -> float:
    if not times:
        return 0.0
    return round(times[max(0, int(round(q * len(times))) - 1)] * 1000, 1)


def browser(args, rec: Recorder, stop: threading.Event, username: str, targets: dict):
    client = Client(args.url)
    if not client.login(username, args.password):
        rec.note(f"login refused for {username}")
        return
    rnd = random.Random(username + str(threading.get_ident()))
    while not stop.is_set():
        choice = rnd.random()
        if choice < 0.5:
            page = path = rnd.choice(PAGES)
        elif choice < 0.8 and targets["use_cases"]:
            page, path = "use case", f"/inventory/use-cases/{rnd.choice(targets['use_cases'])}/"
        else:
            page, path = "version", f"/reviews/versions/{rnd.choice(targets['versions'])}/"
        status, elapsed, _ = client.call("GET", path)
        rec.add_page(page, status, elapsed)
        stop.wait(rnd.uniform(1, 3))


def signer(args, rec: Recorder, stop: threading.Event, username: str, targets: dict):
    client = Client(args.url)
    if not client.login(username, args.password):
        rec.note(f"login refused for {username}")
        return
    rnd = random.Random(username + "sign" + str(threading.get_ident()))
    stop.wait(rnd.uniform(5, 20))
    while not stop.is_set():
        status, elapsed, body = client.json("GET", "/api/v1/promotion-requests/?status=pending")
        rec.add("api-read", status, elapsed)
        mine = [r["id"] for r in body.get("results", []) if r.get("requested_by") in targets["ds"]]
        rnd.shuffle(mine)
        for pk in mine[:3]:
            status, elapsed, _ = client.json(
                "POST",
                f"/api/v1/promotion-requests/{pk}/sign/",
                {"meaning": "rejected", "reason": "Load test: rejected", "password": args.password},
            )
            rec.add("sign", status, elapsed)
            if status == 201:
                rec.note("signatures given")
                break
            rec.note(f"sign answered {status}")
        stop.wait(rnd.uniform(20, 40))


def new_version(model: int) -> dict:
    label = f"load-{uuid.uuid4().hex[:10]}"
    return {
        "model": model,
        "version_label": label,
        "artifact_sha256": secrets.token_hex(32),
        "artifact_uri": f"s3://models/load-test/{label}.pkl",
        "framework": "scikit-learn 1.5",
    }


def scientist(args, rec: Recorder, stop: threading.Event, token: str, models: list[int]):
    client = Client(args.url, token)
    rnd = random.Random(token[:8])
    n = 0
    while not stop.is_set():
        n += 1
        model = rnd.choice(models)
        body = new_version(model)
        status, elapsed, version = client.json("POST", "/api/v1/model-versions/", body)
        rec.add("api-write", status, elapsed)
        if status != 201:
            rec.note(f"version registration answered {status}")
            stop.wait(rnd.uniform(*args.scientist_pause))
            continue
        status, elapsed, _ = client.json(
            "POST",
            "/api/v1/promotion-requests/",
            {"model_version": version["id"], "justification": "Load test: move to QA"},
        )
        rec.add("api-write", status, elapsed)
        status, elapsed, scored = client.json(
            "POST",
            "/api/v1/scored-datasets/",
            files={
                "model_version": version["id"],
                "file": ("scored.csv", scored_csv(2000, rnd.randrange(10**9)), "text/csv"),
                "mapping": json.dumps(
                    {"outcome": "y", "prediction": "y_hat", "sensitive": ["race", "sex"]}
                ),
            },
        )
        rec.add("upload", status, elapsed)
        if status == 201:
            status, elapsed, summary = client.json(
                "POST", f"/api/v1/scored-datasets/{scored['id']}/summaries/", {}
            )
            rec.add("api-write", status, elapsed)
            if status in (200, 202) and "id" in summary:
                with rec.lock:
                    rec.summaries.append(summary["id"])
        else:
            rec.note(f"upload answered {status}")
        stop.wait(rnd.uniform(*args.scientist_pause))


def pipeline(args, rec: Recorder, stop: threading.Event, token: str, prod: list[int], rate):
    client = Client(args.url, token)
    interval = 1.0 / rate
    next_at = time.monotonic() + random.uniform(0, interval)
    while not stop.is_set():
        stop.wait(max(0.0, next_at - time.monotonic()))
        next_at += interval
        body = {"model_version": random.choice(prod), "environment": "prod"}
        status, elapsed, _ = client.json("POST", "/api/v1/gate/", body)
        rec.add("gate", status, elapsed)


def token_for(args, username: str) -> str:
    status, _, body = Client(args.url).json(
        "POST", "/api/v1/auth/token/", {"username": username, "password": args.password}
    )
    if status != 200 or "token" not in body:
        raise SystemExit(f"Cannot get a token for {username} (HTTP {status}).")
    return body["token"]


def discover(args) -> dict:
    """What the users act on: use cases, versions, production versions, writable models."""
    api = Client(args.url, token_for(args, "risk.officer"))
    _, _, cases = api.json("GET", "/api/v1/use-cases/?page_size=100")
    _, _, versions = api.json("GET", "/api/v1/model-versions/?page_size=100")
    results = versions.get("results", [])
    targets = {
        "use_cases": [c["id"] for c in cases.get("results", [])],
        "versions": [v["id"] for v in results],
        "prod": [v["id"] for v in results if v.get("environment") == "prod"],
        "ds": [],
        "models": {},
    }
    for username in args.scientists.split(","):
        ds = Client(args.url, token_for(args, username))
        _, _, models = ds.json("GET", "/api/v1/models/?page_size=100")
        # the models this user may register versions of (one registration each finds out)
        writable = [
            m["id"]
            for m in models.get("results", [])
            if ds.json("POST", "/api/v1/model-versions/", new_version(m["id"]))[0] == 201
        ]
        if writable:
            targets["models"][username] = writable
            targets["ds"].append(username)
    if not targets["prod"] or not targets["models"]:
        raise SystemExit("No production version or no model to register against: seed first.")
    return targets


def split_users(total: int) -> dict[str, int]:
    """50 -> 20 browsing, 4 signing, 18 data scientists, 8 pipelines (same shares below)."""
    shares = {"browse": 0.40, "sign": 0.08, "science": 0.36, "pipeline": 0.16}
    counts = {k: max(1, int(round(total * v))) for k, v in shares.items()}
    counts["browse"] += total - sum(counts.values())
    return counts


def wait_for_summaries(args, ids: list[int], token: str) -> dict:
    api = Client(args.url, token)
    started = time.monotonic()
    states: dict[int, str] = {}
    while True:
        for pk in ids:
            if states.get(pk) in ("done", "failed"):
                continue
            status, _, body = api.json("GET", f"/api/v1/bias-summaries/{pk}/")
            states[pk] = body.get("status", f"http {status}") if status == 200 else f"http {status}"
        pending = [pk for pk in ids if states[pk] not in ("done", "failed")]
        if not pending or time.monotonic() - started > args.settle:
            break
        time.sleep(2)
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    return {
        "summaries": len(ids),
        "states": counts,
        "lost": len([pk for pk in ids if states[pk] not in ("done", "failed")]),
        "seconds_to_settle": round(time.monotonic() - started, 1),
    }


def _seconds_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError("expected MIN,MAX seconds, e.g. 20,40") from None
    if not 0 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError("expected 0 <= MIN <= MAX")
    return pair


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--gate-rate", type=float, default=10.0, help="gate calls a second")
    parser.add_argument("--settle", type=float, default=300.0)
    parser.add_argument("--password", default=PASSWORD_DEFAULT)
    parser.add_argument("--browsers", default="risk.officer,approver,auditor,credit.head")
    parser.add_argument("--signers", default="risk.officer")
    parser.add_argument(
        "--scientists", default="data.scientist,credit.modeller,fraud.engineer,people.analyst"
    )
    parser.add_argument(
        "--scientist-pause",
        type=_seconds_range,
        default=(20.0, 40.0),
        help="MIN,MAX seconds a data scientist pauses between two runs (default 20,40)",
    )
    parser.add_argument("--label", default="", help="a name for the run (the topology)")
    parser.add_argument(
        "--behind-proxy",
        action="store_true",
        help="send X-Forwarded-Proto: https (production settings behind a TLS proxy)",
    )
    return parser.parse_args()


def plan_users(args, targets: dict, counts: dict, gate_token: str) -> list:
    """(function, extra args) per simulated user."""
    tokens = {u: token_for(args, u) for u in targets["ds"]}
    browsers, signers = args.browsers.split(","), args.signers.split(",")
    plan = [(browser, (browsers[i % len(browsers)], targets)) for i in range(counts["browse"])]
    plan += [(signer, (signers[i % len(signers)], targets)) for i in range(counts["sign"])]
    for i in range(counts["science"]):
        user = targets["ds"][i % len(targets["ds"])]
        plan.append((scientist, (tokens[user], targets["models"][user])))
    per_pipeline = args.gate_rate / counts["pipeline"]
    plan += [(pipeline, (gate_token, targets["prod"], per_pipeline))] * counts["pipeline"]
    return plan


def run(args, plan: list, rec: Recorder) -> tuple[float, list[float]]:
    """Start every user, sample the load average every 5 s, stop after the duration."""
    stop = threading.Event()
    loads: list[float] = []
    workers = [threading.Thread(target=f, args=(args, rec, stop, *a)) for f, a in plan]
    started = time.monotonic()
    for w in workers:
        w.start()
    while time.monotonic() - started < args.duration:
        time.sleep(5)
        loads.append(os.getloadavg()[0])
    stop.set()
    for w in workers:
        w.join()
    return time.monotonic() - started, loads


def summarise(kind: str, results: list[tuple[int, float]], wall: float) -> dict:
    times = sorted(e for _, e in results)
    codes: dict[str, int] = {}
    for status, _ in results:
        codes[str(status)] = codes.get(str(status), 0) + 1
    row = {
        "kind": kind,
        "requests": len(results),
        "per_s": round(len(results) / wall, 2),
        "errors_5xx": sum(1 for s, _ in results if s >= 500),
        "failed_connections": sum(1 for s, _ in results if s == 0),
        "codes": codes,
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": _pct(times, 0.95),
        "p99_ms": _pct(times, 0.99),
    }
    print(
        f"{kind:<26} {row['requests']:>6} req ({row['per_s']}/s)  5xx {row['errors_5xx']}  "
        f"conn-fail {row['failed_connections']}  p50 {row['p50_ms']} ms  "
        f"p95 {row['p95_ms']} ms  p99 {row['p99_ms']} ms  {codes}",
        flush=True,
    )
    return row


def main() -> int:
    args = parse_args()
    host = urlsplit(args.url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        print("Only a dashboard on this machine (loopback) may be load-tested.", file=sys.stderr)
        return 2
    Client.behind_proxy = args.behind_proxy
    targets = discover(args)
    counts = split_users(args.users)
    gate_token = token_for(args, targets["ds"][0])
    plan = plan_users(args, targets, counts, gate_token)
    rec = Recorder()
    print(f"{len(plan)} users {counts} for {args.duration:.0f} s on {args.url}", flush=True)
    wall, loads = run(args, plan, rec)
    rows = [summarise(kind, results, wall) for kind, results in sorted(rec.rows.items())]
    print("pages, one by one:", flush=True)
    pages = [summarise(page, results, wall) for page, results in sorted(rec.pages.items())]
    jobs = wait_for_summaries(args, sorted(set(rec.summaries)), gate_token)
    print(f"jobs       {jobs}", flush=True)
    load = {
        "mean_1min": round(statistics.mean(loads), 2) if loads else None,
        "max_1min": round(max(loads), 2) if loads else None,
        "cpus": os.cpu_count(),
    }
    print(f"load average during the run: {load}; notes {rec.notes}", flush=True)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"load_test-{stamp}.json"
    result = {"label": args.label, "url": args.url, "users": counts}
    result |= {"scientist_pause_s": list(args.scientist_pause)}
    result |= {"duration_s": round(wall, 1), "rows": rows, "pages": pages, "jobs": jobs}
    result |= {"load_average": load, "notes": rec.notes}
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")
    bad = any(r["errors_5xx"] or r["failed_connections"] for r in rows) or jobs["lost"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
