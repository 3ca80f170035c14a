"""Every append-only table is guarded by the database itself, not only by
``AppendOnlyModel`` in Python (issue 13).

The tables are found, not listed: every concrete subclass of ``AppendOnlyModel``, so a
model added later is guarded without anybody remembering it. ``install_guards`` runs
after every ``migrate`` (``post_migrate``, ``audit.apps``) and is idempotent:

- PostgreSQL: a row trigger refuses UPDATE and DELETE (``<table>_append_only``, the
  name the earlier migrations used) and a statement trigger refuses TRUNCATE
  (``<table>_append_only_truncate``), whatever the role; the application role has no
  UPDATE, DELETE or TRUNCATE privilege on these tables either (``audit.db_roles``) and,
  not owning them, cannot disable the triggers. Only the owner can.
- SQLite: BEFORE UPDATE and BEFORE DELETE triggers abort the statement, so a raw SQL
  rewrite by the application is refused too. Re-created after every migrate because
  SQLite drops a table's triggers when a migration rebuilds the table. Whoever can
  write the database file can drop them: the audit anchors (``audit.anchors``) are
  what detect that.

``guards_lifted`` takes them away for the length of a block, for the test runner's
flush only (tests/db_guard_plugin.py): the owner's TRUNCATE (PostgreSQL) or DELETE
(SQLite) of every table between tests that commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.apps import apps

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def append_only_models() -> list[type]:
    """Every concrete model whose rows are never changed or deleted."""
    from audit.append_only import AppendOnlyModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and model._meta.managed and not model._meta.proxy
    ]


def append_only_tables(connection=None) -> list[str]:
    """Their tables; with a connection, only those that exist in its database."""
    tables = sorted({model._meta.db_table for model in append_only_models()})
    if connection is None:
        return tables
    existing = set(connection.introspection.table_names())
    return [table for table in tables if table in existing]


def _name(table: str, suffix: str) -> str:
    return f"{table}_{suffix}"[:63]  # PostgreSQL's identifier limit


def _pg_statements(table: str, quote) -> list[str]:
    return [
        f"CREATE OR REPLACE TRIGGER {quote(_name(table, 'append_only'))} BEFORE UPDATE OR "
        f"DELETE ON {quote(table)} FOR EACH ROW EXECUTE FUNCTION append_only_refuse()",
        f"CREATE OR REPLACE TRIGGER {quote(_name(table, 'append_only_truncate'))} BEFORE "
        f"TRUNCATE ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse()",
    ]


def _sqlite_statements(table: str, quote) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {quote(_name(table, f'append_only_{op.lower()}'))} "
        f"BEFORE {op} ON {quote(table)} BEGIN "
        f"SELECT RAISE(ABORT, 'append-only: {op} on {table} is not allowed'); END"
        for op in ("UPDATE", "DELETE")
    ]


def install_guards(connection) -> list[str]:
    """Create (or refresh) the triggers of every append-only table; returns the tables.

    Needs the tables' owner on PostgreSQL."""
    tables = append_only_tables(connection)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_FUNCTION)
            for table in tables:
                for statement in _pg_statements(table, quote):
                    cursor.execute(statement)
        elif connection.vendor == "sqlite":
            for table in tables:
                for statement in _sqlite_statements(table, quote):
                    cursor.execute(statement)
    return tables


@contextlib.contextmanager
def guards_lifted(connection) -> Iterator[None]:
    """Within the block the append-only triggers do not fire (the caller holds a
    transaction, so that a failure leaves them in place). For the test runner's flush."""
    tables = append_only_tables(connection)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            for table in tables:
                for op in ("update", "delete"):
                    cursor.execute(
                        f"DROP TRIGGER IF EXISTS {quote(_name(table, f'append_only_{op}'))}"
                    )
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
    else:
        install_guards(connection)


def guard_after_migrate(*, using: str = "default", **kwargs) -> None:
    """``post_migrate``: guard every append-only table, then (PostgreSQL with an
    application role configured) give that role its privileges again, so tables added
    by the migration get theirs (``audit.db_roles``)."""
    from django.conf import settings
    from django.db import connections

    connection = connections[using]
    install_guards(connection)
    app_role = getattr(settings, "DATABASE_APP_ROLE", "")
    if connection.vendor == "postgresql" and app_role:
        from audit.db_roles import apply_grants

        apply_grants(connection=connection, app_role=app_role)
