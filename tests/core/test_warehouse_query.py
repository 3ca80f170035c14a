"""Scored-data queries (issue 17), pure: what ``check_query`` accepts (one read-only
SELECT) and refuses, with its reason; the count statements render from the parsed
query, so a comment or a second statement cannot ride along; and the pushed-down
counts equal the file reader's on the same rows (DuckDB, in process)."""

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.scored_io import ColumnMapping, ScoredDataError, summarise_file
from core.warehouse import (
    QueryRefused,
    check_query,
    confusion_sql,
    counts_fingerprint,
    histogram_sql,
    pushdown_counts,
)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM scored",
        "select race, sex, y, yhat from risk.scored where period = '2026-11';",
        "WITH s AS (SELECT * FROM scored) SELECT * FROM s",
        "SELECT * FROM a UNION ALL SELECT * FROM b",
        "SELECT * FROM scored -- the November run",
    ],
)
def test_a_single_select_is_accepted(text):
    assert check_query(text, "postgres").tree is not None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "Give a SELECT"),
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        ("SELECT 1; DROP TABLE scored", "exactly one SELECT"),
        ("DELETE FROM scored", "not DELETE"),
        ("INSERT INTO scored VALUES (1)", "not INSERT"),
        ("UPDATE scored SET y = 1", "not UPDATE"),
        ("CREATE TABLE x AS SELECT 1", "not CREATE"),
        ("DROP TABLE scored", "not DROP"),
        ("TRUNCATE scored", "not TRUNCATE"),
        ("COPY scored TO '/tmp/out.csv'", "not COPY"),
        ("SET statement_timeout = 0", "not SET"),
        ("WITH gone AS (DELETE FROM scored RETURNING *) SELECT * FROM gone", "contains DELETE"),
        ("SELECT * INTO copy_of FROM scored", "contains INTO"),
        ("SELECT * FROM scored FOR UPDATE", "contains LOCK"),
        ("SELECT * FROM (", "cannot be parsed"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text, why):
    with pytest.raises(QueryRefused, match=why):
        check_query(text, "postgres")


def test_an_unknown_dialect_is_refused():
    with pytest.raises(QueryRefused, match="Unknown SQL dialect"):
        check_query("SELECT 1", "cobol")


def test_statements_render_from_the_parsed_query_in_each_dialect():
    mapping = ColumnMapping(outcome="y", score="s", threshold=0.5, sensitive=["race"], weight="w")
    checked = check_query("SELECT * FROM scored -- ) ; DROP TABLE scored", "postgres")
    sql = confusion_sql(checked, mapping)
    assert "DROP" not in sql and "--" not in sql
    assert "GROUP BY" in sql and "DOUBLE PRECISION" in sql and ">= 0.5" in sql
    duck = histogram_sql(check_query("SELECT * FROM scored", "duckdb"), mapping, grid=True)
    assert "FLOOR" in duck and "CAST" in duck
    for dialect in ("trino", "snowflake", "bigquery", "spark"):
        assert "GROUP BY" in confusion_sql(check_query("SELECT * FROM t", dialect), mapping)


def _fetch(con):
    def fetch(sql):
        cursor = con.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(500):
            yield rows

    return fetch


@pytest.mark.parametrize("score_cap", [100_000, 40])
def test_duckdb_counts_equal_the_file_reader_s(tmp_path, score_cap):
    """Exact score histograms and, past the cap, the grid: equal to the file's counts."""
    rng = np.random.default_rng(5)
    n = 5000
    race = rng.choice(np.array(["A", "B", "", "C"]), n).astype(object)
    race[rng.random(n) < 0.05] = None
    table = pa.table(
        {
            "race": pa.array(race.tolist(), pa.string()),
            "sex": pa.array(rng.choice(["F", "M"], n).tolist()),
            "y": pa.array(rng.integers(0, 2, n), pa.int8()),
            "score": pa.array(np.round(rng.random(n), 4)),
            "w": pa.array(rng.integers(1, 4, n).astype(float)),
        }
    )
    path = tmp_path / "s.parquet"
    pq.write_table(table, path, row_group_size=1000)
    mapping = ColumnMapping(
        outcome="y", score="score", threshold=0.35, sensitive=["race", "sex"], weight="w"
    )
    expected = summarise_file(path, mapping, score_cap=score_cap, batch_rows=700)
    checked = check_query(f"SELECT * FROM read_parquet('{path}')", "duckdb")  # noqa: S608 (the query is the test's input)
    got = pushdown_counts(
        checked, mapping, _fetch(duckdb.connect()), max_groups=1000, score_cap=score_cap
    )
    assert got.counts == expected
    assert got.fingerprint == counts_fingerprint(expected)
    assert got.counts.score_grid == (score_cap == 40)
    assert len(got.statements) == (3 if score_cap == 40 else 2)


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("SELECT 'A' AS race, 2 AS y, 1 AS yhat", "outcome 2 is not 0 or 1"),
        ("SELECT 'A' AS race, 1 AS y, NULL::INTEGER AS yhat", "prediction is missing"),
        ("SELECT 'A' AS race, 'yes' AS y, 1 AS yhat", "'yes' is not 0/1 or true/false"),
        ("SELECT range::VARCHAR AS race, 1 AS y, 1 AS yhat FROM range(5)", "more than 3 distinct"),
    ],
)
def test_values_the_file_reader_refuses_are_refused_naming_the_column(select, message):
    mapping = ColumnMapping(outcome="y", prediction="yhat", sensitive=["race"])
    with pytest.raises(ScoredDataError, match=message):
        pushdown_counts(
            check_query(select, "duckdb"), mapping, _fetch(duckdb.connect()), max_groups=3
        )
