"""Pages and API list endpoints at portfolio scale (issue 18), in process.

Builds (or reuses) a database holding the demo portfolio plus ``manage.py seed_scale
--use-cases N`` (N = 0: the demo alone), then, with Django's test client signed in as
each demo role, requests every page and every list endpoint of the API ``--repeats``
times after one warm-up, and reports per (page, role): the status, p50 and p95 of the
response time, the number of SQL queries and the size of the body. The target is p95
under 150 ms and query counts that do not depend on N.

    .venv/bin/python bench/pages_bench.py --use-cases 10000          # SQLite file in bench/out
    .venv/bin/python bench/pages_bench.py --use-cases 0 --repeats 20 # the demo alone
    DATABASE_URL=postgres://... .venv/bin/python bench/pages_bench.py --use-cases 10000

With ``DATABASE_URL`` pointing to PostgreSQL, that database is used (migrated and seeded
when it holds no demo). Results go to ``bench/out/pages_bench-N-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "bench" / "out"
TARGET_MS = 150.0
ROLES = ("risk.officer", "governance.lead", "data.scientist", "approver", "auditor")


def _setup(args) -> None:
    from bench.bootstrap import django_setup

    django_setup(db_name=f"pages-{args.use_cases}", db_path=args.db or "", seed=False)


def _seed(n: int) -> float:
    """Migrate, load the demo and the scale portfolio when missing; seconds spent."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from demo.scale import scale_use_cases

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="risk.officer").exists():
        call_command("seed_demo", verbosity=0)
    if n and scale_use_cases().count() < n:
        call_command("seed_scale", use_cases=n)
    return time.perf_counter() - started


def _targets() -> list[tuple[str, str]]:
    """(label, path) of every page worth timing (one object each for the detail pages:
    a scale use case where there is one) and every list endpoint of the API."""
    from django.urls import get_resolver, reverse

    from demo.scale import scale_use_cases
    from inventory.models import Dataset, MLModel, ModelVersion, UseCase
    from oversight.models import FrameworkReview
    from reviews.models import Finding, PromotionRequest

    use_case = scale_use_cases().filter(status="production").first() or (
        UseCase.objects.filter(status="production").first()
    )
    version = ModelVersion.objects.filter(model__use_case=use_case, environment="prod").first()
    model = MLModel.objects.filter(use_case=use_case).first()
    pending = PromotionRequest.objects.filter(status="pending").order_by("-id").first()
    dataset = Dataset.objects.first()
    pages = [
        ("home", reverse("dashboard:home")),
        ("inventory", reverse("inventory:use-case-list")),
        ("datasets", reverse("inventory:dataset-list")),
        ("use case", reverse("dashboard:use-case-detail", args=[use_case.pk])),
        ("model", reverse("inventory:model-detail", args=[model.pk])),
        ("dataset", reverse("inventory:dataset-detail", args=[dataset.pk])),
        ("my responsibilities", reverse("governance:raci-mine")),
        ("RACI of a use case", reverse("governance:raci-use-case", args=[use_case.pk])),
        (
            "obligations of a use case",
            reverse("governance:obligations-use-case", args=[use_case.pk]),
        ),
        ("policy", reverse("governance:policy")),
        ("ethics", reverse("governance:ethics")),
        ("risk rules", reverse("governance:risk-rules")),
        ("framework changes", reverse("governance:framework-changes")),
        ("audit", reverse("audit:list")),
        ("my pending approvals", reverse("reviews:pending")),
        ("periodic reviews", reverse("reviews:periodic-reviews")),
        ("gate log", reverse("reviews:gate-log")),
        ("experiments", reverse("experiments:experiment-list")),
        ("version", reverse("reviews:version", args=[version.pk])),
        ("findings", reverse("reviews:findings") + "?unresolved=true"),
        ("my work", reverse("dashboard:my-work")),
        ("my work counts", reverse("dashboard:my-work-counts")),
        ("attestations", reverse("engagement:campaigns")),
        ("training", reverse("engagement:modules")),
        ("training module", reverse("engagement:module-detail", args=["signing-part-11"])),
        ("obligations still owed", reverse("governance:obligations") + "?state=owed"),
        ("ethics unanswered", reverse("governance:ethics-unanswered")),
        ("RACI incomplete", reverse("governance:raci-incomplete")),
        ("governance KPIs", reverse("oversight:kpis") + "?days=365"),
        ("framework reviews", reverse("oversight:reviews")),
    ]
    review = FrameworkReview.objects.order_by("-pk").first()
    if review is not None:
        pages.append(("framework review", reverse("oversight:review-detail", args=[review.pk])))
    finding = Finding.objects.order_by("-pk").first()
    if finding is not None:
        pages.append(("finding", reverse("reviews:finding-detail", args=[finding.pk])))
    if pending is not None:
        pages.append(("request", reverse("reviews:request-detail", args=[pending.pk])))
    seen = set()
    for p in _flatten(get_resolver().url_patterns):
        path = "/" + p.pattern_path.replace("^", "").replace("$", "")
        listing = p.name and p.name.endswith("-list") and path.startswith("/api/v1/")
        if listing and "(" not in path and "<" not in path and path not in seen:
            seen.add(path)
            pages.append((f"API {p.name.removesuffix('-list')}", path))
    return pages


def _flatten(patterns, prefix=""):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            yield from _flatten(p.url_patterns, prefix + str(p.pattern))
        else:
            p.pattern_path = prefix + str(p.pattern)
            yield p


def _measure(client, path: str, repeats: int, cold: bool = False) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm-up: template compilation, caches
    times, queries, status, size = [], [], 0, 0
    for _ in range(repeats):
        if cold:  # as right after an audited write: no figure kept (audit.figures)
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(ctx.captured_queries))
        status, size = response.status_code, len(response.content)
    times.sort()
    return {
        "status": status,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
        "queries": max(queries),
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-cases", type=int, default=10000, help="N (0: the demo only)")
    parser.add_argument("--repeats", type=int, default=10, help="timed requests per page")
    parser.add_argument("--db", help="SQLite file (default bench/out/pages-N.sqlite3)")
    parser.add_argument("--roles", default=",".join(ROLES), help="demo users to sign in as")
    parser.add_argument("--only", default="", help="comma-separated labels to time")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the cache before each request: every figure computed, as after a write",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    _setup(args)
    import logging

    logging.disable(logging.INFO)  # the sign-in log lines of django-axes

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from bench.bias.data import machine
    from inventory.models import UseCase

    seeded = _seed(args.use_cases)
    targets = _targets()
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        targets = [t for t in targets if t[0] in wanted]
    results = []
    print(f"{UseCase.objects.count():,} use cases on {connection.vendor}; seeding {seeded:.0f} s")
    print(f"{'page':<34}{'role':<17}{'status':>6}{'p50 ms':>9}{'p95 ms':>9}{'queries':>8}{'KB':>8}")
    for username in args.roles.split(","):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for label, path in targets:
            row = {
                "page": label,
                "path": path,
                "role": username,
                **_measure(client, path, args.repeats, cold=args.cold),
            }
            results.append(row)
            flag = " !" if row["status"] == 200 and row["p95_ms"] > TARGET_MS else ""
            print(
                f"{label:<34}{username:<17}{row['status']:>6}{row['p50_ms']:>9}{row['p95_ms']:>9}"
                f"{row['queries']:>8}{row['bytes'] / 1024:>8.0f}{flag}",
                flush=True,
            )
    ok = [r for r in results if r["status"] == 200]
    slow = [r for r in ok if r["p95_ms"] > TARGET_MS]
    print(f"{len(ok)} page x role measured (200), {len(slow)} above {TARGET_MS:.0f} ms at p95.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = out / f"pages_bench-{args.use_cases}{'-cold' if args.cold else ''}-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "use_cases": UseCase.objects.count(),
                "database": connection.vendor,
                "debug": settings.DEBUG,
                "repeats": args.repeats,
                "cold": args.cold,
                "machine": machine(),
                "results": results,
            },
            indent=1,
        )
    )
    print(f"Results: {path}")
    print()
    print(summary(results))
    return 1 if slow else 0


def summary(results: list[dict]) -> str:
    """A Markdown table, one row per page: the slowest role's p95, the median of the
    roles' p50, and the query counts (min-max over the roles), for docs/benchmarks.md."""
    pages: dict[str, list[dict]] = {}
    for row in results:
        if row["status"] == 200:
            pages.setdefault(row["page"], []).append(row)
    lines = [
        "| page | roles | p50 ms (median of roles) | p95 ms (slowest role) | queries | KB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for page, rows in pages.items():
        worst = max(rows, key=lambda r: r["p95_ms"])
        queries = sorted({r["queries"] for r in rows})
        shown = f"{queries[0]}" if len(queries) == 1 else f"{queries[0]}-{queries[-1]}"
        lines.append(
            f"| {page} | {len(rows)} | {statistics.median(r['p50_ms'] for r in rows):.0f} "
            f"| {worst['p95_ms']:.0f} ({worst['role']}) | {shown} "
            f"| {max(r['bytes'] for r in rows) / 1024:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
