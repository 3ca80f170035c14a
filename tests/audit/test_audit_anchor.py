"""Issue 13: the audit chain's head is anchored outside the database with a keyed MAC,
and ``audit_verify`` checks the chain against the anchors by default, so an attacker
who can write the database (on SQLite: anyone with the file; the guards dropped first)
cannot delete the newest events or re-hash the chain unnoticed, nor forge an anchor
without the key."""

import json
import stat
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.anchors import audit_anchor_record, on_anchor
from audit.models import AuditEvent
from audit.services import audit_record
from audit.tasks import audit_anchor
from core.audit_anchor import make_anchor
from core.audit_chain import event_hash
from tests.db_guard_plugin import tamper_with

TABLE = "governance_auditevent"  # literal in the SQL below, too
# Tampering on PostgreSQL as the application role goes through the owner's connection,
# which cannot see a test transaction's rows: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def record(n: int) -> list[AuditEvent]:
    for i in range(n):
        audit_record(action="test.step", object_type="tests.thing", object_id=i, reason=f"{i}")
    return list(AuditEvent.objects.order_by("seq"))


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(command: str, *args) -> str:
    with pytest.raises(CommandError) as failure:
        run(command, *args)
    assert failure.value.returncode == 1
    return str(failure.value)


def log_lines() -> list[dict]:
    return [json.loads(line) for line in settings.AUDIT_ANCHOR_LOG.read_text().splitlines()]


def rehash_from(seq: int, reason: str) -> None:
    """Rewrite the event at ``seq`` and re-compute every hash from it to the head, as
    an attacker who knows the (public) chain formula would."""
    events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev = events[0].prev_hash
    for event in events:
        payload = event.payload()
        if event.seq == seq:
            payload["reason"] = reason
        new = event_hash(prev, payload)
        tamper_with(
            TABLE,
            "UPDATE governance_auditevent SET reason = %s, prev_hash = %s, hash = %s "
            "WHERE seq = %s",
            [payload["reason"], prev, new, event.seq],
        )
        prev = new


def test_an_anchor_is_a_keyed_line_in_a_log_outside_the_database():
    events = record(3)
    out = run("audit_anchor")
    head = events[-1]
    assert f"Anchored seq {head.seq} (hash {head.hash})" in out
    [line] = log_lines()
    assert (line["seq"], line["hash"]) == (head.seq, head.hash)
    key_file = settings.AUDIT_ANCHOR_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip().encode()
    assert make_anchor(key, seq=head.seq, hash=head.hash, at=line["at"]).mac == line["mac"]
    assert not AuditEvent.objects.filter(reason__contains=key.decode()).exists()
    verified = run("audit_verify")
    assert verified.startswith(f"OK: {AuditEvent.objects.count()} events")
    assert f"Anchors: 1 checked; the latest, of seq {head.seq}" in verified


def test_events_after_the_newest_anchor_still_verify():
    record(2)
    run("audit_anchor")
    record(2)
    run("audit_anchor")
    record(1)
    assert "Anchors: 2 checked" in run("audit_verify")


def test_deleting_the_newest_events_is_detected():
    events = record(5)
    run("audit_anchor")
    tamper_with(TABLE, "DELETE FROM governance_auditevent WHERE seq >= %s", [events[-2].seq])
    # The chain alone cannot tell: what is left is intact.
    assert run("audit_verify", "--no-anchor-log").startswith("OK:")
    message = refused("audit_verify")
    assert f"does not reach the anchor: seq {events[-1].seq} is missing" in message
    assert "Not anchored" in refused("audit_anchor")
    assert len(log_lines()) == 1


def test_rehashing_the_chain_from_a_row_onward_is_detected():
    events = record(5)
    run("audit_anchor")
    rehash_from(events[-3].seq, "nothing happened")
    assert run("audit_verify", "--no-anchor-log").startswith("OK:")
    message = refused("audit_verify")
    assert f"does not match the anchor: seq {events[-1].seq}" in message


def test_an_anchor_forged_without_the_key_is_refused():
    events = record(4)
    run("audit_anchor")
    rehash_from(events[1].seq, "forged")
    head = AuditEvent.objects.order_by("-seq").first()
    forged = make_anchor(b"a guessed key", seq=head.seq, hash=head.hash, at="2030-01-01T00:00Z")
    with settings.AUDIT_ANCHOR_LOG.open("a") as log:
        log.write(forged.line() + "\n")
    message = refused("audit_verify")
    assert "does not verify with the anchor key" in message
    # Editing the genuine anchor's hash breaks its MAC the same way.
    first, _forged = settings.AUDIT_ANCHOR_LOG.read_text().splitlines()
    edited = json.loads(first) | {"hash": head.hash, "seq": head.seq}
    settings.AUDIT_ANCHOR_LOG.write_text(json.dumps(edited) + "\n")
    assert "does not verify with the anchor key" in refused("audit_verify")


def test_anchors_without_their_key_cannot_be_checked():
    record(2)
    run("audit_anchor")
    settings.AUDIT_ANCHOR_KEY_FILE.unlink()
    assert "no anchor key" in refused("audit_verify")


def test_the_key_can_come_from_the_environment(settings):
    settings.AUDIT_ANCHOR_KEY = "k" * 64
    record(2)
    anchor, _report = audit_anchor_record()
    assert not settings.AUDIT_ANCHOR_KEY_FILE.exists()
    assert make_anchor(b"k" * 64, seq=anchor.seq, hash=anchor.hash, at=anchor.at) == anchor
    assert "Anchors: 1 checked" in run("audit_verify")


def test_beat_anchors_daily_and_the_task_calls_handlers():
    entry = settings.CELERY_BEAT_SCHEDULE["anchor-audit-trail"]
    assert entry == {"task": "audit.tasks.audit_anchor", "schedule": 24 * 60 * 60}
    seen = []
    on_anchor(seen.append)
    try:
        record(1)
        assert audit_anchor().startswith("anchored seq")
    finally:
        from audit import anchors

        anchors._handlers.remove(seen.append)
    assert [a.seq for a in seen] == [log_lines()[0]["seq"]]


def test_an_empty_trail_is_not_anchored():
    if AuditEvent.objects.exists():
        pytest.skip("data migrations recorded events")
    assert "nothing to anchor" in run("audit_anchor")
