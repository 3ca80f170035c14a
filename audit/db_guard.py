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

**Frozen rows** are the same guard for tables whose rows are frozen by a state rather
than from birth: an app registers them in its ``ready()`` (``register_frozen``; e.g.
governance: a published policy version and its cells, which drafts' rows are not), and
the database refuses an UPDATE or DELETE of a row that is frozen (on PostgreSQL a row
trigger, ``<table>_frozen``, whatever the role; on SQLite BEFORE UPDATE/DELETE triggers
with a WHEN clause). An UPDATE that would move a row under a frozen parent is refused
too. The application role keeps its privileges on these tables (drafts change), and
cannot drop or disable the triggers, which it does not own. Data migrations are the
owner's own changes (governance 0022 and 0023 rewrote published cells): ``migrate``
lifts these guards before it runs (``pre_migrate``, ``lift_frozen``) and puts them back
after (``post_migrate``); a migration run without the command (a bare
``MigrationExecutor``) lifts them with ``frozen_lifted``. A migrate that fails half-way
leaves them lifted until the next one succeeds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

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
    """Create (or refresh) the triggers of every append-only table and of the frozen
    rows' tables; returns the append-only tables.

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
        for rule in frozen_rules(connection):
            for statement in _frozen_statements(rule, connection.vendor, quote):
                cursor.execute(statement)
    return tables


# --- Frozen rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class FrozenRows:
    """Rows of ``model`` the database refuses to UPDATE or DELETE while ``field``
    equals ``value``: the row's own field, or (``through``: a foreign key) its parent's.
    ``what`` names them in the refusal."""

    model: type
    field: str
    value: str
    what: str
    through: str | None = None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def tables(self) -> set[str]:
        """The tables its triggers read: its own and its parent's."""
        if self.through is None:
            return {self.table}
        return {self.table, self.model._meta.get_field(self.through).related_model._meta.db_table}


_FROZEN: dict[str, FrozenRows] = {}


def register_frozen(
    model: type, *, field: str, value: str, what: str, through: str | None = None
) -> None:
    """Have the database refuse to change or delete the rows of ``model`` whose
    ``field`` (or, with ``through``, whose parent's ``field``) is ``value``. Called from
    an app's ``ready()``; the triggers are made after the next ``migrate``."""
    _FROZEN[model._meta.label] = FrozenRows(model, field, value, what, through)


def frozen_rules(connection=None) -> list[FrozenRows]:
    """The registered frozen rows; with a connection, those whose tables exist there."""
    rules = sorted(_FROZEN.values(), key=lambda r: r.table)
    if connection is None:
        return rules
    existing = set(connection.introspection.table_names())
    return [rule for rule in rules if rule.tables <= existing]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _frozen_condition(rule: FrozenRows, row: str, quote) -> str:
    """SQL that is true when ``row`` (OLD or NEW) is frozen."""
    meta = rule.model._meta
    if rule.through is None:
        return f"{row}.{quote(meta.get_field(rule.field).column)} = {_literal(rule.value)}"
    fk = meta.get_field(rule.through)
    parent = fk.related_model._meta
    # Names come from the models (quoted by the backend), the value from the code.
    return (
        f"EXISTS (SELECT 1 FROM {quote(parent.db_table)} frozen_parent "  # noqa: S608
        f"WHERE frozen_parent.{quote(fk.target_field.column)} = {row}.{quote(fk.column)} "
        f"AND frozen_parent.{quote(parent.get_field(rule.field).column)} = "
        f"{_literal(rule.value)})"
    )


def _frozen_statements(rule: FrozenRows, vendor: str, quote) -> list[str]:
    """The trigger(s) refusing UPDATE and DELETE of the rule's frozen rows. A row under
    a parent is refused when it is frozen before the UPDATE or would be after it; a row
    frozen by its own field only before (the transition into the state is allowed)."""
    old = _frozen_condition(rule, "OLD", quote)
    new = _frozen_condition(rule, "NEW", quote) if rule.through else None
    table, name = quote(rule.table), _name(rule.table, "frozen")
    message = f"frozen: {rule.what} cannot be changed or deleted"
    if vendor == "postgresql":
        pg_message = _literal(message.replace("%", "%%") + " (% on %)")
        refuse = f"RAISE EXCEPTION {pg_message}, TG_OP, TG_TABLE_NAME USING ERRCODE = "
        refuse += "'insufficient_privilege';"
        check_new = f"IF {new} THEN {refuse} END IF;" if new else ""
        return [
            f"CREATE OR REPLACE FUNCTION {quote(name)}() RETURNS trigger AS $$\n"
            f"BEGIN\n    IF {old} THEN {refuse} END IF;\n"
            f"    IF TG_OP = 'UPDATE' THEN {check_new} RETURN NEW; END IF;\n"
            "    RETURN OLD;\nEND;\n$$ LANGUAGE plpgsql",
            f"CREATE OR REPLACE TRIGGER {quote(name)} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {quote(name)}()",
        ]
    if vendor == "sqlite":
        raise_ = f"SELECT RAISE(ABORT, {_literal(message)});"
        when = {"update": f"{old} OR {new}" if new else old, "delete": old}
        return [
            f"CREATE TRIGGER IF NOT EXISTS {quote(_name(rule.table, f'frozen_{op}'))} "
            f"BEFORE {op.upper()} ON {table} FOR EACH ROW WHEN {condition} "
            f"BEGIN {raise_} END"
            for op, condition in when.items()
        ]
    return []


def _frozen_drop_statements(rule: FrozenRows, vendor: str, quote) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {quote(_name(rule.table, 'frozen'))} ON {quote(rule.table)}"
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {quote(_name(rule.table, f'frozen_{op}'))}"
            for op in ("update", "delete")
        ]
    return []


def lift_frozen(connection) -> list[str]:
    """Drop the frozen rows' triggers (the owner, before migrating); returns the tables.
    ``install_guards`` puts them back."""
    rules = frozen_rules(connection)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for rule in rules:
            for statement in _frozen_drop_statements(rule, connection.vendor, quote):
                cursor.execute(statement)
    return [rule.table for rule in rules]


@contextlib.contextmanager
def frozen_lifted(connection) -> Iterator[None]:
    """Within the block the frozen rows may be changed (a data migration run without
    ``migrate``); the guards are back after it, failure or not."""
    lift_frozen(connection)
    try:
        yield
    finally:
        install_guards(connection)


def lift_frozen_before_migrate(*, using: str = "default", **kwargs) -> None:
    """``pre_migrate``: the migrations are the owner's own changes (see the module)."""
    from django.db import connections

    lift_frozen(connections[using])


@contextlib.contextmanager
def guards_lifted(connection) -> Iterator[None]:
    """Within the block the append-only and frozen-row triggers do not fire (the caller
    holds a transaction, so that a failure leaves them in place). For the test runner's
    flush."""
    tables = append_only_tables(connection)
    frozen = sorted({rule.table for rule in frozen_rules(connection)} - set(tables))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables + frozen:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            for table in tables:
                for op in ("update", "delete"):
                    cursor.execute(
                        f"DROP TRIGGER IF EXISTS {quote(_name(table, f'append_only_{op}'))}"
                    )
            lift_frozen(connection)
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables + frozen:
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
