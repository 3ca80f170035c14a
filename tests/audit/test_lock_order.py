"""Every write transaction takes the audit chain's lock first (audit/lock_order.py).

Found by the load test on the production topology: a writer that locked a use case
(SELECT ... FOR UPDATE, as the inventory, RACI and obligation services do) and then
appended to the audit chain deadlocked with a writer that appended first and then locked
the same use case. PostgreSQL aborted one of them: a 503 for a person.
"""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from audit.lock_order import _writes
from audit.models import AuditEvent
from audit.services import ADVISORY_LOCK_KEY, audit_record
from inventory.models import UseCase
from tests.factories import UseCaseFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's row and advisory locks"
)


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _in_chain_lock(pid: int) -> bool:
    """The backend holds or waits for the audit chain's advisory lock."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s AND objid = %s",
            [pid, ADVISORY_LOCK_KEY],
        )
        return cursor.fetchone()[0] > 0


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_lock_then_audit_and_audit_then_lock_do_not_deadlock():
    use_case = UseCaseFactory()
    errors: list[BaseException] = []
    inserted = threading.Event()
    second_pid: list[int] = []

    def first():
        """Lock the use case for update, then append to the chain."""
        try:
            with transaction.atomic():
                UseCase.objects.select_for_update().get(pk=use_case.pk)
                UseCase.objects.filter(pk=use_case.pk).update(name="first")
                inserted.set()
                deadline = time.monotonic() + 30
                while not second_pid and time.monotonic() < deadline:
                    time.sleep(0.01)
                # Go on only once the other writer holds or waits for the chain's lock.
                while not _in_chain_lock(second_pid[0]) and time.monotonic() < deadline:
                    time.sleep(0.01)
                audit_record(action="test.lock_order", object_type="tests.first", object_id=1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        """Append to the chain, then lock the same use case for update."""
        try:
            inserted.wait(30)
            second_pid.append(_backend_pid())
            with transaction.atomic():
                audit_record(action="test.lock_order", object_type="tests.second", object_id=2)
                UseCase.objects.select_for_update().get(pk=use_case.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert AuditEvent.objects.filter(action="test.lock_order").count() == 2
    assert UseCase.objects.get(pk=use_case.pk).name == "first"
    assert verify().startswith("OK:")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_reads_take_no_lock_and_a_write_takes_it_once():
    use_case = UseCaseFactory()
    taken = []

    def count_locks(execute, sql, params, many, context):
        if "pg_advisory_xact_lock" in sql:
            taken.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_locks):
        with transaction.atomic():
            list(UseCase.objects.all())
            assert taken == []
            UseCase.objects.filter(pk=use_case.pk).update(name="renamed")
            UseCase.objects.filter(pk=use_case.pk).update(name="renamed again")
            audit_record(action="test.lock_order", object_type="tests.once", object_id=3)
        with transaction.atomic():
            UseCase.objects.filter(pk=use_case.pk).update(name="a new transaction")
    # Once per transaction by the wrapper; audit_record takes its own (re-entrant) too.
    assert len(taken) == 3


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ('INSERT INTO "t" VALUES (1)', True),
        ('  UPDATE "t" SET a = 1', True),
        ('DELETE FROM "t"', True),
        ('SELECT "t"."id" FROM "t" WHERE id = 1 FOR UPDATE', True),
        ('SELECT "t"."id" FROM "t" FOR NO KEY UPDATE SKIP LOCKED', True),
        ('SELECT "t"."id" FROM "t"', False),
        ("SELECT pg_advisory_xact_lock(1)", False),
        # a session: written only by its own browser's requests
        ('UPDATE "django_session" SET "session_data" = %s WHERE 1', False),
        ('INSERT INTO "django_session" ("session_key") VALUES (%s)', False),
        ('INSERT INTO "axes_accesslog" ("username") VALUES (%s)', True),
        ('UPDATE "governance_usecase" SET "name" = %s', True),
    ],
)
def test_which_statements_write(sql, writes):
    assert _writes(sql) is writes
