"""Sessions on a registered warehouse connection (issue 17): read-only, under a statement
timeout, with the secret read from the environment at the moment of use.

- PostgreSQL (psycopg): one transaction, ``READ ONLY`` and ``REPEATABLE READ`` (every
  count statement sees the same snapshot), ``statement_timeout``; results streamed by a
  server-side cursor.
- DuckDB: the secret is a folder of Parquet files (each ``<name>.parquet`` is a view
  ``<name>``) or a ``.duckdb`` file opened read-only; file access is limited to that
  folder and the configuration locked; the timeout interrupts the statement.
- Any other engine through a SQLAlchemy URL (Trino, Snowflake, BigQuery, Spark...):
  SQLAlchemy and the engine's driver must be installed; the timeout cancels from a
  timer where the driver allows it. Documented, not tested here.

Every failure is a ``WarehouseError`` worded for people (never the secret)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("fairness.warehouse")


class WarehouseError(Exception):
    """The engine could not answer: unreachable, refused the statement, or timed out."""


def _timeout() -> int:
    return int(getattr(settings, "WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", 300))


def _fetch_rows() -> int:
    return int(getattr(settings, "WAREHOUSE_FETCH_ROWS", 10_000))


def secret_env_problem(name: str) -> str | None:
    """Why ``name`` cannot hold a connection's secret (None: it can)."""
    prefix = getattr(settings, "WAREHOUSE_SECRET_PREFIX", "WAREHOUSE_DSN_")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,99}", name or ""):
        return "Name an environment variable: capital letters, digits and underscores."
    if not name.startswith(prefix):
        return (
            f"The variable's name must start with {prefix} "
            "(the product's own secrets are off limits)."
        )
    return None


def _secret(connection) -> str:
    value = os.environ.get(connection.secret_env, "")
    if not value:
        raise WarehouseError(
            f"The environment variable {connection.secret_env} of connection "
            f"{connection.name!r} is not set on this server: ask the administrators."
        )
    return value


class Session:
    """One read-only session: ``fetch(sql)`` yields lists of rows."""

    def __init__(self, cursor_factory, cancel=None):
        self._cursor_factory = cursor_factory
        self._cancel = cancel

    def fetch(self, sql: str) -> Iterator[list[tuple]]:
        with self._guard():
            cursor = self._cursor_factory()
            try:
                cursor.execute(sql)
                while True:
                    rows = cursor.fetchmany(_fetch_rows())
                    if not rows:
                        break
                    yield [tuple(r) for r in rows]
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    def columns(self, sql: str) -> list[str]:
        with self._guard():
            cursor = self._cursor_factory(named=False)
            try:
                cursor.execute(sql)
                return [d[0] for d in cursor.description or []]
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    @contextlib.contextmanager
    def _guard(self):
        timer = None
        if self._cancel is not None:
            timer = threading.Timer(_timeout(), self._cancel)
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()


def _timed_out() -> WarehouseError:
    return WarehouseError(
        f"The query ran longer than the statement timeout ({_timeout()} s) and was stopped."
    )


@contextlib.contextmanager
def open_session(connection) -> Iterator[Session]:
    """A read-only session on ``connection`` (a WarehouseConnection). Raises
    WarehouseError when it cannot be opened or a statement fails or times out."""
    opener = {"postgresql": _postgres, "duckdb": _duckdb, "sqlalchemy": _sqlalchemy}
    if connection.engine not in opener:
        raise WarehouseError(f"Unknown engine {connection.engine!r}.")
    if not connection.active:
        raise WarehouseError(f"The connection {connection.name!r} is switched off.")
    with opener[connection.engine](connection, _secret(connection)) as session:
        yield session


@contextlib.contextmanager
def _postgres(connection, dsn: str):
    import psycopg

    try:
        conn = psycopg.connect(
            dsn,
            connect_timeout=int(getattr(settings, "WAREHOUSE_CONNECT_TIMEOUT_SECONDS", 10)),
            application_name="governance-bias-pushdown",
        )
    except psycopg.Error as exc:
        logger.warning("warehouse %s: cannot connect: %s", connection.name, exc)
        raise WarehouseError(
            f"The connection {connection.name!r} cannot be reached ({type(exc).__name__}); "
            "administrators find the details in the worker's log."
        ) from exc
    try:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute("SELECT set_config('statement_timeout', %s, true)", [f"{_timeout()}s"])
        counter = iter(range(1, 1_000_000))

        def cursor(named: bool = True):
            return conn.cursor(name=f"bias_pushdown_{next(counter)}") if named else conn.cursor()

        try:
            yield Session(cursor)
        except psycopg.errors.QueryCanceled as exc:
            raise _timed_out() from exc
        except psycopg.Error as exc:
            raise WarehouseError(
                f"PostgreSQL refused the query: {str(exc).strip().splitlines()[0][:300]}"
            ) from exc
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def _duckdb(connection, location: str):
    import duckdb

    path = Path(location)
    folder = path if path.is_dir() else path.parent
    try:
        if path.is_dir():
            conn = duckdb.connect(":memory:")
        else:
            conn = duckdb.connect(str(path), read_only=True)
        conn.execute(f"SET allowed_directories = [{_literal(str(folder.resolve()) + os.sep)}]")
        conn.execute("SET enable_external_access = false")
        if path.is_dir():
            for parquet in sorted(folder.glob("*.parquet")):
                name = re.sub(r"\W", "_", parquet.stem)
                # the administrator's own folder and file names, quoted (not user input)
                source = _literal(str(parquet))
                conn.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({source})')  # noqa: S608
        conn.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        raise WarehouseError(
            f"The DuckDB data of connection {connection.name!r} cannot be opened "
            f"({type(exc).__name__})."
        ) from exc

    current: list = []

    def cursor(named: bool = True):
        current[:] = [conn.cursor()]
        return current[0]

    def cancel() -> None:
        # a cursor is a connection of its own: interrupt the one running the statement
        for running in current:
            running.interrupt()

    try:
        yield Session(cursor, cancel=cancel)
    except duckdb.InterruptException as exc:
        raise _timed_out() from exc
    except duckdb.Error as exc:
        raise WarehouseError(
            f"DuckDB refused the query: {str(exc).strip().splitlines()[0][:300]}"
        ) from exc
    finally:
        conn.close()


@contextlib.contextmanager
def _sqlalchemy(connection, url: str):
    try:
        import sqlalchemy
    except ImportError as exc:
        raise WarehouseError(
            "This server has no SQLAlchemy: install it and the engine's driver "
            "(e.g. trino, snowflake-sqlalchemy, sqlalchemy-bigquery)."
        ) from exc
    try:
        engine = sqlalchemy.create_engine(url)
        conn = engine.connect().execution_options(stream_results=True)
        raw = conn.connection.dbapi_connection
    except Exception as exc:  # drivers raise their own classes
        logger.warning("warehouse %s: cannot connect: %s", connection.name, exc)
        raise WarehouseError(
            f"The connection {connection.name!r} cannot be reached ({type(exc).__name__})."
        ) from exc

    def cursor(named: bool = True):
        return raw.cursor()

    cancel = getattr(raw, "cancel", None) or getattr(raw, "interrupt", None)
    try:
        yield Session(cursor, cancel=cancel)
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(
            f"The engine refused the query ({type(exc).__name__}): {str(exc)[:300]}"
        ) from exc
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()
        engine.dispose()
