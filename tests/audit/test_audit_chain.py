"""The audit trail's hash chain and export helpers, as pure functions."""

import datetime as dt
import decimal
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit_chain import (
    GENESIS,
    ChainRow,
    ChainVerifier,
    canonical_json,
    event_hash,
    jsonable,
    spreadsheet_safe,
    verify_chain,
)


def build_chain(payloads):
    rows, prev = [], GENESIS
    for seq, payload in enumerate(payloads, start=1):
        payload = {**payload, "seq": seq}
        digest = event_hash(prev, payload)
        rows.append(ChainRow(seq, 100 + seq, prev, digest, payload))
        prev = digest
    return rows


PAYLOADS = [
    {"action": "create", "changes": {"name": [None, "Credit scoring"]}},
    {"action": "update", "changes": {"status": ["idea", "development"]}},
    {"action": "update", "changes": {"letters": ["R", "AR"]}, "reason": "New lead"},
    {"action": "delete", "changes": {"name": ["Credit scoring", None]}},
]


def test_event_hash_is_sha256_hex_and_depends_on_previous_hash():
    digest = event_hash(GENESIS, {"seq": 1})
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert event_hash("f" * 64, {"seq": 1}) != digest


def test_canonical_json_sorts_keys_and_normalises_times_decimals_uuids():
    moment = dt.datetime(2026, 3, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    text = canonical_json({"b": decimal.Decimal("1.50"), "a": moment, "c": ident, "d": 2.0})
    assert text == (
        '{"a":"2026-03-01T12:30:00.000000+00:00","b":"1.50",'
        '"c":"12345678-1234-5678-1234-567812345678","d":2}'
    )


def test_key_order_does_not_change_the_hash():
    assert event_hash(GENESIS, {"a": 1, "b": {"y": 2, "x": 3}}) == event_hash(
        GENESIS, {"b": {"x": 3, "y": 2}, "a": 1}
    )


def test_jsonable_round_trips_through_json():
    value = jsonable(
        {"when": dt.date(2026, 1, 2), "tags": {"b", "a"}, "pair": (1, 2), "nan": float("nan")}
    )
    assert json.loads(json.dumps(value)) == value
    assert value == {"when": "2026-01-02", "tags": ["a", "b"], "pair": [1, 2], "nan": "nan"}


def test_an_intact_chain_verifies():
    assert verify_chain(build_chain(PAYLOADS)) is None
    assert verify_chain([]) is None


def test_an_altered_row_is_named():
    rows = build_chain(PAYLOADS)
    tampered = rows[2]
    rows[2] = ChainRow(
        tampered.seq,
        tampered.row_id,
        tampered.prev_hash,
        tampered.hash,
        {**tampered.payload, "reason": "Nothing to see"},
    )
    broken = verify_chain(rows)
    assert (broken.seq, broken.row_id, broken.kind) == (3, 103, "altered")
    assert "seq 3 (id 103)" in str(broken)


def test_a_missing_row_is_named():
    rows = build_chain(PAYLOADS)
    del rows[1]
    broken = verify_chain(rows)
    assert (broken.seq, broken.kind) == (2, "missing")
    assert "seq 2 not found" in broken.reason


def test_a_missing_first_row_is_named():
    broken = verify_chain(build_chain(PAYLOADS)[1:])
    assert (broken.seq, broken.kind) == (1, "missing")


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link():
    rows = build_chain(PAYLOADS)
    forged_payload = {**rows[1].payload, "changes": {"status": ["idea", "retired"]}}
    forged = ChainRow(
        2, 102, rows[1].prev_hash, event_hash(rows[1].prev_hash, forged_payload), forged_payload
    )
    rows[1] = forged
    broken = verify_chain(rows)
    assert (broken.seq, broken.kind) == (3, "broken_link")
    assert "seq 2" in broken.reason


def test_the_verifier_reports_the_intact_head():
    rows = build_chain(PAYLOADS)
    verifier = ChainVerifier()
    for row in rows:
        assert verifier.feed(row) is None
    assert (verifier.count, verifier.last_seq, verifier.head_hash) == (4, 4, rows[-1].hash)


@given(
    st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text()), max_size=6), st.data()
)
def test_any_single_alteration_is_detected(payloads, data):
    rows = build_chain(payloads)
    if not rows:
        return
    index = data.draw(st.integers(0, len(rows) - 1))
    row = rows[index]
    rows[index] = ChainRow(
        row.seq, row.row_id, row.prev_hash, row.hash, {**row.payload, "__tampered__": True}
    )
    broken = verify_chain(rows)
    assert broken is not None and broken.seq == index + 1


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_spreadsheet_safe_neutralises_formula_cells(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("value", ["Credit scoring", "", "a=b", 42, None, -3])
def test_spreadsheet_safe_leaves_other_values(value):
    assert spreadsheet_safe(value) == value
