"""A scored-data query checked as read-only (one SELECT or WITH ... SELECT, parsed by
sqlglot in the engine's dialect) and the count statements the bias summary sends to the
engine instead of reading the rows: the group-by of sensitive values, outcome and
prediction (``confusion_sql``) and, with a score, the score histogram per cell
(``histogram_sql``), exact or on the grid of ``core.fairness.GRID_BINS`` points.

The statements are rendered from the parsed query (never by pasting its text), so what
runs is what was checked: a comment or a second statement cannot hide in it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from core.fairness import GRID_BINS
from core.scored_io import ColumnMapping

# Engine -> sqlglot dialect. "sqlalchemy" connections name their dialect themselves.
ENGINE_DIALECTS = {"postgresql": "postgres", "duckdb": "duckdb"}
DIALECTS = (
    "postgres",
    "duckdb",
    "trino",
    "presto",
    "snowflake",
    "bigquery",
    "spark",
    "databricks",
    "redshift",
    "mysql",
    "tsql",
    "oracle",
)
MAX_QUERY_CHARS = 20_000

# Statement kinds refused anywhere in the tree (a data-modifying CTE, SELECT ... INTO,
# row locks, session or transaction control, file export, attaching databases).
_REFUSED = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "Command",
        "Into",
        "Lock",
        "TruncateTable",
        "Copy",
        "Set",
        "Pragma",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "Grant",
        "Revoke",
        "Attach",
        "Detach",
        "Export",
        "Analyze",
        "LoadData",
        "Refresh",
        "Cache",
        "Uncache",
        "Kill",
    )
    if hasattr(exp, name)
)


class QueryRefused(ValueError):
    """The query is not a single read-only SELECT, worded for the person who wrote it."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed ``check_query``: its text and its parsed tree."""

    text: str
    dialect: str
    tree: exp.Query


def check_query(text: str, dialect: str) -> CheckedQuery:
    """Parse ``text`` in ``dialect`` and accept one SELECT (or WITH ... SELECT, UNION...).

    Raises QueryRefused for anything else: no text, a parse error, several statements,
    DDL/DML, SELECT INTO, FOR UPDATE, session or transaction control."""
    if dialect not in DIALECTS:
        raise QueryRefused(f"Unknown SQL dialect {dialect!r}.")
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused("Give a SELECT query.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(f"The query is longer than {MAX_QUERY_CHARS:,} characters.")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first['line']}, column {first['col']})" if first.get("line") else ""
        raise QueryRefused(f"The query cannot be parsed as {dialect} SQL{where}.") from exc
    if len(statements) != 1:
        raise QueryRefused(
            f"Give exactly one SELECT statement; this text holds {len(statements)} statements."
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryRefused(
            f"Only a SELECT (or WITH ... SELECT) is allowed, not {tree.key.upper()}: "
            "the query must read, never change."
        )
    for node in tree.walk():
        if isinstance(node, _REFUSED):
            raise QueryRefused(
                f"The query contains {node.key.upper()}: only reading is allowed "
                "(no data-modifying WITH, SELECT INTO or FOR UPDATE)."
            )
    return CheckedQuery(text=text, dialect=dialect, tree=tree)


def _col(name: str) -> exp.Column:
    return exp.column(name, table="q", quoted=True)


def _double(name: str) -> exp.Expression:
    return exp.cast(_col(name), exp.DataType.build("double"))


def _count_star() -> exp.Expression:
    return exp.Count(this=exp.Star())


def _prediction(mapping: ColumnMapping) -> exp.Expression:
    if mapping.prediction is not None:
        return _col(mapping.prediction)
    # the file path's rule: prediction = score >= threshold (float64 comparison)
    threshold = exp.Literal.number(repr(float(mapping.threshold)))
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.GTE(this=_double(mapping.score), expression=threshold),
                true=exp.Literal.number(1),
            )
        ],
        default=exp.Literal.number(0),
    )


def _grid_index(mapping: ColumnMapping) -> exp.Expression:
    """round-half-even(score * (GRID_BINS - 1)) as numpy's ``rint`` computes it, written
    with FLOOR so that every engine gives the same integer (their ROUNDs differ on ties)."""
    x = exp.Mul(this=_double(mapping.score), expression=exp.Literal.number(GRID_BINS - 1))
    floor = exp.Floor(this=x.copy())
    frac = exp.Sub(this=x.copy(), expression=floor.copy())
    base = exp.cast(floor.copy(), exp.DataType.build("bigint"))
    half = exp.Literal.number("0.5")
    tie = exp.Mod(this=base.copy(), expression=exp.Literal.number(2))
    step = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=frac.copy(), expression=half.copy()), true=exp.Literal.number(1)
            ),
            exp.If(
                this=exp.LT(this=frac.copy(), expression=half.copy()), true=exp.Literal.number(0)
            ),
        ],
        default=tie,
    )
    return exp.Add(this=base, expression=exp.paren(step))


def _group_sql(query: CheckedQuery, keys: list[exp.Expression], aggs: list[exp.Expression]) -> str:
    select = [exp.alias_(k.copy(), f"k{i}", quoted=True) for i, k in enumerate(keys)]
    select += [exp.alias_(a, f"a{i}", quoted=True) for i, a in enumerate(aggs)]
    source = exp.Subquery(this=query.tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("q")))
    stmt = exp.select(*select).from_(source).group_by(*[k.copy() for k in keys])
    return stmt.sql(dialect=query.dialect, comments=False)


def confusion_sql(query: CheckedQuery, mapping: ColumnMapping) -> str:
    """Per sensitive values x outcome x prediction: the row count, and what the checks and
    sums need (weights: sum, sum of squares, min, max, non-null count; score: min, max,
    non-null count). Columns: sensitive..., outcome, prediction, n, [w...], [score...]."""
    keys = [_col(s) for s in mapping.sensitive]
    keys += [_col(mapping.outcome), _prediction(mapping)]
    aggs: list[exp.Expression] = [_count_star()]
    if mapping.weight is not None:
        w = _double(mapping.weight)
        aggs += [
            exp.Sum(this=w.copy()),
            exp.Sum(this=exp.Mul(this=w.copy(), expression=w.copy())),
            exp.Min(this=w.copy()),
            exp.Max(this=w.copy()),
            exp.Count(this=w.copy()),
        ]
    if mapping.score is not None:
        s = _double(mapping.score)
        aggs += [exp.Min(this=s.copy()), exp.Max(this=s.copy()), exp.Count(this=s.copy())]
    return _group_sql(query, keys, aggs)


def histogram_sql(query: CheckedQuery, mapping: ColumnMapping, *, grid: bool) -> str:
    """Per sensitive values x score (exact, or its grid index) x outcome: the row count and,
    with weights, their sum. Columns: sensitive..., score or index, outcome, n, [w]."""
    score = _grid_index(mapping) if grid else _double(mapping.score)
    keys = [_col(s) for s in mapping.sensitive] + [score, _col(mapping.outcome)]
    aggs: list[exp.Expression] = [_count_star()]
    if mapping.weight is not None:
        aggs.append(exp.Sum(this=_double(mapping.weight)))
    return _group_sql(query, keys, aggs)


def columns_sql(query: CheckedQuery) -> str:
    """The query with no rows: its column names, from the engine, without reading data."""
    source = exp.Subquery(this=query.tree.copy(), alias=exp.TableAlias(this=exp.to_identifier("q")))
    return exp.select(exp.Star()).from_(source).limit(0).sql(dialect=query.dialect, comments=False)
