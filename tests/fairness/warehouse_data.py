"""Scored rows where they live, for the pushdown tests (issue 17): the COMPAS rows (and a
synthetic set with weights and missing values) as a Parquet file for upload, as a
folder a DuckDB connection reads, and as a table in a real PostgreSQL.

PostgreSQL: ``WAREHOUSE_TEST_POSTGRES_URL``, else the owner's (or the application's)
``DATABASE_URL`` when the suite runs on PostgreSQL, as in CI; a scratch schema is
created there for the test and dropped after. Locally without PostgreSQL the tests
that need it are skipped with that reason (``REQUIRE_WAREHOUSE_POSTGRES=1`` makes the
absence a failure; CI always runs on PostgreSQL)."""

import io
import os
import secrets

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.fairness.fairness_data import compas, synthetic

COLUMNS = ("race", "sex", "y", "yhat", "score", "w")


def compas_table() -> pa.Table:
    d = compas()
    return pa.table(
        {
            "race": pa.array(d["race"].tolist(), pa.string()),
            "sex": pa.array(d["sex"].tolist(), pa.string()),
            "y": pa.array(d["y"], pa.int32()),
            "yhat": pa.array(d["yhat"], pa.int32()),
            "score": pa.array(d["score"], pa.float64()),
            # whole weights: their sums are exact in any order, so weighted results
            # compare to the last digit too
            "w": pa.array((np.arange(len(d["y"])) % 3 + 1).astype(np.float64)),
        }
    )


def synthetic_table() -> pa.Table:
    """Missing sensitive values (None, NaN-free text, empty strings) and 2-decimal scores."""
    d = synthetic(3000, seed=11, missing=True)
    race = [None if not isinstance(v, str) else v for v in d["race"].tolist()]
    return pa.table(
        {
            "race": pa.array(race, pa.string()),
            "sex": pa.array([v if isinstance(v, str) else None for v in d["sex"]], pa.string()),
            "y": pa.array(d["y"], pa.int32()),
            "yhat": pa.array(d["yhat"], pa.int32()),
            "score": pa.array(d["score"], pa.float64()),
            "w": pa.array(np.ones(len(d["y"]))),
        }
    )


def parquet_bytes(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=2000)
    return out.getvalue()


def postgres_url() -> str | None:
    for name in ("WAREHOUSE_TEST_POSTGRES_URL", "DATABASE_OWNER_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


@pytest.fixture
def duck_folder(tmp_path, monkeypatch):
    """A folder of Parquet files (a DuckDB connection's data): compas, synthetic."""
    folder = tmp_path / "lake"
    folder.mkdir()
    pq.write_table(compas_table(), folder / "compas.parquet", row_group_size=2000)
    pq.write_table(synthetic_table(), folder / "synthetic.parquet", row_group_size=2000)
    monkeypatch.setenv("WAREHOUSE_DSN_LAKE", str(folder))
    return folder


@pytest.fixture
def pg_warehouse(monkeypatch):
    """A scratch schema with tables ``compas`` and ``synthetic`` on a real PostgreSQL;
    its URL in ``WAREHOUSE_DSN_PG``. Yields the schema's name."""
    url = postgres_url()
    if url is None:
        if os.environ.get("REQUIRE_WAREHOUSE_POSTGRES") == "1":
            pytest.fail("no PostgreSQL for the pushdown tests; REQUIRE_WAREHOUSE_POSTGRES=1")
        pytest.skip(
            "no PostgreSQL here (set WAREHOUSE_TEST_POSTGRES_URL, or run on PostgreSQL as CI does)"
        )
    import psycopg
    from psycopg import sql

    schema = f"bias_pushdown_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for name, table in (("compas", compas_table()), ("synthetic", synthetic_table())):
            target = sql.Identifier(schema, name)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (race text, sex text, y integer, yhat integer, "
                    "score double precision, w double precision)"
                ).format(target)
            )
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
                for row in zip(*(table[c].to_pylist() for c in COLUMNS), strict=True):
                    copy.write_row(row)
        conn.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(schema, "ticket")))
    monkeypatch.setenv("WAREHOUSE_DSN_PG", url)
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
