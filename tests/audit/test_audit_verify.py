"""``manage.py audit_verify`` and the append-only audit table: the command passes an
intact chain and names the first altered or missing row after tampering. On
PostgreSQL the database itself refuses UPDATE and DELETE from the application's
connection, so the tests tamper as an owner who first disables the triggers."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from core.audit_chain import event_hash
from tests.db_guard_plugin import tamper_with

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL"
)
TABLE = "governance_auditevent"  # literal in the SQL below, too


@pytest.fixture
def chain(db):
    """Five events; returns them oldest first."""
    events = [
        audit_record(
            action="test.step",
            object_type="tests.thing",
            object_id=n,
            changes={"step": [n - 1, n]},
            reason=f"step {n}",
        )
        for n in range(1, 6)
    ]
    return [e for e in AuditEvent.objects.order_by("seq") if e.seq >= events[0].seq][:5]


def verify(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tamper(sql: str, params=()) -> None:
    """Change the audit table behind the application's back (as its owner would, or
    anyone who can write the SQLite file): the guards are lifted first."""
    tamper_with(TABLE, sql, params)


# Tampering on PostgreSQL as the application role needs the owner's connection, which
# a test's own transaction would hide its rows from: these tests commit.
tampering = pytest.mark.django_db(transaction=True)


def test_an_intact_chain_passes(chain):
    total = AuditEvent.objects.count()
    head = AuditEvent.objects.order_by("-seq").first()
    out = verify()
    assert out.strip() == (
        f"OK: {total} events, chain intact up to seq {head.seq}, head hash {head.hash}"
    )


def test_an_empty_trail_passes(db):
    if AuditEvent.objects.exists():
        pytest.skip("data migrations recorded events")
    assert verify().startswith("OK: 0 events")


def test_the_chain_is_checked_in_batches(chain):
    assert verify("--batch-size", "2").startswith(f"OK: {AuditEvent.objects.count()} events")


@tampering
def test_an_altered_row_is_named(chain):
    target = chain[2]
    tamper(
        "UPDATE governance_auditevent SET reason = %s WHERE seq = %s",
        ["nothing happened", target.seq],
    )
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"seq {target.seq} (id {target.pk}): altered" in message
    assert "stored hash does not match its contents" in message


@tampering
def test_a_deleted_row_is_named_as_missing(chain):
    target = chain[1]
    tamper("DELETE FROM governance_auditevent WHERE seq = %s", [target.seq])
    with pytest.raises(CommandError) as failure:
        verify("--batch-size", "1")
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"seq {target.seq}: missing" in message
    assert f"the chain goes from seq {target.seq - 1} to seq {target.seq + 1}" in message


@tampering
def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_link_to_the_next(chain):
    target, following = chain[2], chain[3]
    payload = {**target.payload(), "reason": "forged"}
    forged = event_hash(target.prev_hash, payload)
    tamper(
        "UPDATE governance_auditevent SET reason = %s, hash = %s WHERE seq = %s",
        ["forged", forged, target.seq],
    )
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"seq {following.seq} (id {following.pk}): broken link" in str(failure.value)


@tampering
def test_an_anchor_catches_a_rewritten_tail(chain):
    head = chain[-1]
    anchor = f"{head.seq}:{head.hash}"
    assert verify("--anchor", anchor).startswith("OK:")
    # Rewrite the newest event and its hash: nothing follows it, so the chain alone
    # cannot tell; the head recorded earlier can.
    payload = {**head.payload(), "reason": "forged"}
    tamper(
        "UPDATE governance_auditevent SET reason = %s, hash = %s WHERE seq = %s",
        ["forged", event_hash(head.prev_hash, payload), head.seq],
    )
    assert verify().startswith("OK:")
    with pytest.raises(CommandError, match="does not match the anchor"):
        verify("--anchor", anchor)
    tamper("DELETE FROM governance_auditevent WHERE seq = %s", [head.seq])
    with pytest.raises(CommandError, match="does not reach the anchor"):
        verify("--anchor", anchor)


def test_a_malformed_anchor_is_refused(chain):
    with pytest.raises(CommandError, match="SEQ:HASH"):
        verify("--anchor", "5:abc")


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE governance_auditevent SET reason = 'rewritten'",
        "DELETE FROM governance_auditevent",
        "UPDATE governance_auditevent SET reason = 'x' WHERE seq = -1",  # even when nothing matches
    ],
)
def test_postgresql_refuses_updates_and_deletes_from_the_application(chain, sql):
    with pytest.raises(DatabaseError, match="append-only|permission denied"), transaction.atomic():
        raw(sql)
    assert AuditEvent.objects.filter(reason="rewritten").count() == 0
    assert AuditEvent.objects.filter(seq=chain[0].seq).exists()
    assert verify().startswith("OK:")


@postgresql_only
def test_postgresql_installs_the_triggers(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [TABLE],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {f"{TABLE}_no_update_delete", f"{TABLE}_append_only", f"{TABLE}_no_truncate"} <= names
    assert f"{TABLE}_append_only_truncate" in names


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    """Four threads, each with its own database connection, append at once: the
    advisory lock gives every event the next seq and the right prev_hash."""
    errors = []
    barrier = threading.Barrier(4)

    def writer(n):
        try:
            barrier.wait(timeout=30)
            for i in range(15):
                audit_record(
                    action="test.concurrent", object_type="tests.thing", object_id=n * 100 + i
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert AuditEvent.objects.filter(action="test.concurrent").count() == 60
    assert verify().startswith("OK:")
