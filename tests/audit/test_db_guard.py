# ruff: noqa: S608 - table names come from the models, quoted by the backend
"""Issue 13: every table documented as append-only is guarded by the database itself.

The tables are enumerated from the models (every concrete ``AppendOnlyModel``), so a
model added later is checked without being listed here. On PostgreSQL each has a row
trigger refusing UPDATE and DELETE and a statement trigger refusing TRUNCATE; on SQLite
triggers refuse UPDATE and DELETE. Run as the application role (CI), the privileges
refuse them before any trigger does; run as the owner, the triggers do.
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.db_guard import append_only_models, append_only_tables
from audit.services import audit_record
from inventory.choices import RiskTier
from monitoring.models import DriftAlertEvent
from tests.db_guard_plugin import runs_as_owner
from tests.factories import (
    DriftAlertFactory,
    GateCallFactory,
    UseCaseFactory,
    confirmed_classification,
)

pytestmark = pytest.mark.django_db

TABLES = append_only_tables()
REFUSED = "append-only|permission denied"
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite")


def test_the_documented_append_only_records_are_all_found():
    labels = {model._meta.label for model in append_only_models()}
    assert {
        "audit.AuditEvent",
        "monitoring.DriftAlertEvent",
        "governance.Classification",
        "governance.EthicsAnswerSet",
        "governance.EthicsApproval",
        "reviews.Signature",
        "reviews.GateCall",
        "reviews.SigningFailure",
        "governance.ObligationEvent",
    } <= labels


@pytest.fixture
def some_rows(risk_officer):
    """A row in several append-only tables (the audit trail, gate calls, a
    classification and its confirmation, a drift alert's history)."""
    audit_record(action="test.step", object_type="tests.thing", object_id=1)
    GateCallFactory()
    confirmed_classification(UseCaseFactory(risk_tier=RiskTier.HIGH), by=risk_officer)
    DriftAlertEvent.objects.create(
        alert=DriftAlertFactory(), action=DriftAlertEvent.Action.OPENED, at=timezone.now()
    )


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def _a_column(table: str) -> str:
    """A column other than ``id`` (the application role may UPDATE the id of the rows
    it locks, ``audit.db_roles.ROW_LOCKED``; the row trigger still refuses it)."""
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, table)
    return connection.ops.quote_name(next(c.name for c in columns if c.name != "id"))


def _refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The test's own inserts' deferred foreign-key checks, which TRUNCATE
                # would otherwise trip over before any trigger.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql)
    except DatabaseError as exc:
        assert any(word in str(exc) for word in ("append-only", "permission denied")), exc
        return True
    return False


@postgresql_only
@pytest.mark.parametrize("table", TABLES)
def test_postgresql_guards_every_append_only_table(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgtype, t.tgenabled, p.proname FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
            [table],
        )
        triggers = cursor.fetchall()
    # tgtype bits: 1 row, 2 before, 8 delete, 16 update, 32 truncate.
    enabled = [(kind, name) for kind, state, name in triggers if state != "D"]
    row_update_delete = [n for kind, n in enabled if kind & 1 and kind & 2 and kind & 24 == 24]
    truncate = [name for kind, name in enabled if kind & 2 and kind & 32 and not kind & 1]
    assert row_update_delete, f"{table} has no row trigger refusing UPDATE and DELETE"
    assert truncate, f"{table} has no statement trigger refusing TRUNCATE"


@postgresql_only
@pytest.mark.parametrize("table", TABLES)
def test_postgresql_refuses_update_delete_and_truncate_of_every_append_only_table(some_rows, table):
    quoted = connection.ops.quote_name(table)
    rows = _count(table)
    assert _refused(f"TRUNCATE {quoted} CASCADE")
    column = _a_column(table)
    for sql in (f"UPDATE {quoted} SET {column} = {column}", f"DELETE FROM {quoted}"):
        # A row trigger fires per row: with no row, only the privileges refuse.
        assert _refused(sql) or (rows == 0 and runs_as_owner(table)), sql
    assert _count(table) == rows


@sqlite_only
@pytest.mark.parametrize("table", TABLES)
def test_sqlite_guards_every_append_only_table(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        bodies = " ".join(row[0] for row in cursor.fetchall()).upper()
    assert "BEFORE UPDATE" in bodies and "BEFORE DELETE" in bodies
    assert bodies.count("RAISE(ABORT") >= 2


@pytest.mark.parametrize(
    "table",
    [
        "governance_auditevent",
        "reviews_gatecall",
        "governance_classification",
        "governance_classificationconfirmation",
        "reviews_driftalertevent",
    ],
)
def test_raw_sql_cannot_rewrite_or_delete_append_only_rows(some_rows, table):
    quoted = connection.ops.quote_name(table)
    rows = _count(table)
    assert rows > 0
    assert _refused(f"UPDATE {quoted} SET id = id")
    column = _a_column(table)
    assert _refused(f"UPDATE {quoted} SET {column} = {column}")
    assert _refused(f"DELETE FROM {quoted}")
    assert _count(table) == rows


@postgresql_only
def test_the_application_role_cannot_alter_the_audit_trail(some_rows):
    """CI runs the tests as the application role: it cannot TRUNCATE, disable the
    triggers, UPDATE, DELETE or DROP the audit table, nor the signatures."""
    if runs_as_owner("governance_auditevent"):
        pytest.skip("runs as the tables' owner (set DATABASE_OWNER_URL to test the roles)")
    rows = _count("governance_auditevent")
    for sql in (
        "TRUNCATE governance_auditevent",
        "ALTER TABLE governance_auditevent DISABLE TRIGGER USER",
        "ALTER TABLE governance_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER governance_auditevent_append_only ON governance_auditevent",
        "UPDATE governance_auditevent SET reason = 'rewritten'",
        "DELETE FROM governance_auditevent",
        "DROP TABLE governance_auditevent",
        "TRUNCATE reviews_signature, reviews_gatecall, reviews_blockingwaiver",
        "ALTER TABLE reviews_signature DISABLE TRIGGER USER",
    ):
        with (
            pytest.raises(DatabaseError, match=r"must be owner|permission denied|append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert _count("governance_auditevent") == rows


@postgresql_only
def test_the_application_role_has_only_select_and_insert_on_append_only_tables():
    if runs_as_owner("governance_auditevent"):
        pytest.skip("runs as the tables' owner (set DATABASE_OWNER_URL to test the roles)")
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT has_table_privilege(current_user, %s, 'SELECT'),"
                " has_table_privilege(current_user, %s, 'INSERT'),"
                " has_table_privilege(current_user, %s, 'UPDATE, DELETE, TRUNCATE, TRIGGER')",
                [table] * 3,
            )
            assert cursor.fetchone() == (True, True, False), table
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND (tableowner = current_user "
            "OR has_table_privilege(current_user, "
            "quote_ident(schemaname) || '.' || quote_ident(tablename), 'TRUNCATE'))"
        )
        assert cursor.fetchone()[0] == 0
