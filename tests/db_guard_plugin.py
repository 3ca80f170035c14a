"""The test runner and issue 13's database guards and roles.

- PostgreSQL with ``DATABASE_OWNER_URL`` (CI): the test databases are created,
  migrated and dropped as the owner; the tests themselves run as the application role
  (``DATABASE_URL``), which owns nothing and may not UPDATE, DELETE or TRUNCATE an
  append-only table.
- The flush between tests that commit (transactional_db, live_server) empties the
  append-only tables too: as the owner, with the guards lifted inside the flush's own
  transaction (``audit.db_guard.guards_lifted``), so a failed flush leaves them in place.
- ``owner_connection``: a test that runs migrations runs as the owner.
- ``tamper_with(table, sql)``: what an attacker who can write the database does (drop or disable
  the guards, then rewrite): for the tests that show the tampering is detected.
"""

import django.test.utils
import pytest
from django.core.management.commands import flush
from django.db import connection, connections, transaction

from audit.db_guard import guards_lifted
from audit.db_roles import as_owner

_setup_databases = django.test.utils.setup_databases
_teardown_databases = django.test.utils.teardown_databases
_flush_handle = flush.Command.handle


def setup_databases(*args, **kwargs):
    with as_owner():
        return _setup_databases(*args, **kwargs)


def teardown_databases(*args, **kwargs):
    with as_owner():
        return _teardown_databases(*args, **kwargs)


def flush_handle(self, **options):
    alias = options.get("database", "default")
    with as_owner(alias), transaction.atomic(using=alias), guards_lifted(connections[alias]):
        return _flush_handle(self, **options)


# pytest-django imports these from django.test.utils when it sets the databases up.
django.test.utils.setup_databases = setup_databases
django.test.utils.teardown_databases = teardown_databases
flush.Command.handle = flush_handle


def runs_as_owner(table: str) -> bool:
    """Whether the tests' connection owns ``table`` (False: the application role)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables "
            "WHERE tablename = %s",
            [table],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def tamper_with(table: str, sql: str, params=()) -> None:
    """Run ``sql`` on ``table`` behind the application's back, as someone who can
    lift its guards (SQLite: anyone who can write the file; PostgreSQL: the owner).

    On PostgreSQL as the application role this needs the owner's connection, so it
    works only outside a transaction (tests marked ``transaction=True``)."""
    quote = connection.ops.quote_name
    if connection.vendor == "sqlite":
        with transaction.atomic(), guards_lifted(connection), connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    if runs_as_owner(table):
        with transaction.atomic(), connection.cursor() as cursor:
            # Deferred foreign-key checks of this test's inserts must run before ALTER.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    if connection.in_atomic_block:
        pytest.skip("tampering needs the owner's connection: mark the test transaction=True")
    with as_owner(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")


@pytest.fixture
def owner_connection(transactional_db):
    """The test runs as the tables' owner (PostgreSQL with DATABASE_OWNER_URL): for the
    tests of migrations, whose DDL is the owner's. Needs a test that commits."""
    with as_owner():
        yield


@pytest.fixture(autouse=True)
def audit_anchor_files(settings, tmp_path):
    """Each test anchors into a log and a key of its own (never var/'s)."""
    settings.AUDIT_ANCHOR_LOG = tmp_path / "audit-anchors.log"
    settings.AUDIT_ANCHOR_KEY_FILE = tmp_path / "audit-anchor.key"
    settings.AUDIT_ANCHOR_KEY = ""
    settings.AUDIT_ANCHOR_EMAIL = ""
