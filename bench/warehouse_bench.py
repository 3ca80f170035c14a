"""Bias counts pushed down to PostgreSQL against exporting the table to Parquet first
(issue 17).

A table of N scored rows (5-level race, 2-level sex, outcome, prediction, a score with
two decimals) is created in a PostgreSQL database (``--url`` or
``WAREHOUSE_BENCH_POSTGRES_URL``; UNLOGGED, to load it fast: reading it is no
different), then the same GroupCounts are computed two ways, ``--repeat`` times each:

- push-down: the statements ``core.warehouse`` renders (a GROUP BY of sensitive values,
  outcome and prediction, and the score histogram), in one read-only REPEATABLE READ
  transaction, only the counts coming back;
- export first: ``COPY (SELECT ...) TO STDOUT`` as CSV into a file, converted to Parquet
  by pyarrow, then read by the file path (``core.scored_io.summarise_file``).

Both give equal counts (checked every run). Medians, the machine and its load average
are printed and written to ``--out`` as JSON; the figures go to docs/benchmarks.md.
``--quick`` is a smoke run (20,000 rows, one repeat).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.bias.data import machine  # noqa: E402
from core.scored_io import ColumnMapping, summarise_file  # noqa: E402
from core.warehouse import check_query, pushdown_counts  # noqa: E402

MAPPING = ColumnMapping(outcome="y", prediction="yhat", sensitive=["race", "sex"], score="score")
TABLE = "bias_bench_scored"  # + the row count: runs of different sizes never share one


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=float, default=10_000_000, help="rows in the table (1e8 ok)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--url", default=os.environ.get("WAREHOUSE_BENCH_POSTGRES_URL", ""))
    p.add_argument(
        "--keep", action="store_true", help="keep the table after, and reuse one of the same size"
    )
    p.add_argument("--quick", action="store_true", help="20,000 rows, one repeat")
    p.add_argument("--out", default=str(ROOT / "bench" / "out"))
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = 20_000, 1
    args.rows = int(args.rows)
    if not args.url:
        p.error("give --url or WAREHOUSE_BENCH_POSTGRES_URL (a PostgreSQL you may write to)")
    return args


def create_table(url: str, table: str, rows: int, keep: bool) -> float:
    """Seeded rows from generate_series (hash-based, so every run builds the same table)."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        if keep:
            found = conn.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table]
            ).fetchone()
            if found and found[0] == rows:
                return 0.0
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(
            sql.SQL(
                """CREATE UNLOGGED TABLE {} AS
                SELECT (ARRAY['Asian','Black','Hispanic','Other','White'])[1 + h %% 5] AS race,
                       CASE WHEN (h / 5) %% 100 < 45 THEN 'F' ELSE 'M' END AS sex,
                       CASE WHEN (h / 500) %% 100 < 25 + 8 * (h %% 5) THEN 1 ELSE 0 END AS y,
                       CASE WHEN (h / 50000) %% 100 < 30 + 6 * (h %% 5) THEN 1 ELSE 0 END AS yhat,
                       ((h / 5000000) %% 101) / 100.0::double precision AS score
                FROM (SELECT abs(hashint8(g)) AS h FROM generate_series(1, %s) g) s"""
            ).format(sql.Identifier(table)),
            [rows],
        )
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    return time.perf_counter() - started


def pushdown(url: str, table: str):
    query = check_query(f"SELECT race, sex, y, yhat, score FROM {table}", "postgres")  # noqa: S608
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

        def fetch(statement):
            with conn.cursor(name="bench") as cursor:
                cursor.execute(statement)
                while rows := cursor.fetchmany(10_000):
                    yield rows

        result = pushdown_counts(query, MAPPING, fetch, max_groups=1000)
        conn.rollback()
    return result.counts, {}


def export_then_file(url: str, table: str, folder: Path):
    csv_path, parquet_path = folder / "export.csv", folder / "export.parquet"
    started = time.perf_counter()
    with psycopg.connect(url) as conn, open(csv_path, "wb") as out:
        copy_sql = sql.SQL(
            "COPY (SELECT race, sex, y, yhat, score FROM {}) TO STDOUT WITH (FORMAT csv, HEADER)"
        ).format(sql.Identifier(table))
        with conn.cursor().copy(copy_sql) as copy:
            for chunk in copy:
                out.write(chunk)
    exported = time.perf_counter() - started
    reader = pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=16 << 20))
    with pq.ParquetWriter(parquet_path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch, row_group_size=1_000_000)
    converted = time.perf_counter() - started - exported
    counts = summarise_file(parquet_path, MAPPING)
    sizes = {
        "csv_mib": csv_path.stat().st_size / 2**20,
        "parquet_mib": parquet_path.stat().st_size / 2**20,
    }
    csv_path.unlink()
    parquet_path.unlink()
    return counts, {"export_s": exported, "convert_s": converted, **sizes}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    load_before = os.getloadavg()
    table = f"{TABLE}_{args.rows}"
    created = create_table(args.url, table, args.rows, args.keep)
    runs: dict[str, list[dict]] = {"pushdown": [], "export_parquet_file": []}
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as tmp:
        for _ in range(args.repeat):
            t = time.perf_counter()
            pushed, _ = pushdown(args.url, table)
            runs["pushdown"].append({"seconds": time.perf_counter() - t})
            t = time.perf_counter()
            from_file, parts = export_then_file(args.url, table, Path(tmp))
            runs["export_parquet_file"].append({"seconds": time.perf_counter() - t, **parts})
            if pushed != from_file:
                raise SystemExit("the pushed-down counts differ from the file path's")
    if not args.keep:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    medians = {
        way: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for way, rs in runs.items()
    }
    report = {
        "rows": args.rows,
        "repeat": args.repeat,
        "table_created_s": created,
        "medians": medians,
        "runs": runs,
        "equal_counts": True,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "machine": machine(),
        "postgres": _server_version(args.url),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"warehouse_bench_{args.rows}.json").write_text(json.dumps(report, indent=2))
    print(
        json.dumps(
            {
                k: report[k]
                for k in ("rows", "medians", "load_average_before", "load_average_after")
            },
            indent=2,
        )
    )
    return report


def _server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


if __name__ == "__main__":
    main()
