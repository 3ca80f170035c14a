"""The embedded broker (governance/broker.py): whole messages only, redelivery of a dead
consumer's messages, nothing delivered twice while its consumer lives."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from governance.broker import Transport

QUEUE = "jobs"


@pytest.fixture(autouse=True)
def fresh_broker_state():
    """kombu keeps bindings per process, not per folder: each test starts with none."""
    Transport.global_state.clear()
    yield
    Transport.global_state.clear()


def options(folder: Path, **extra) -> dict:
    for sub in ("out", "processing", "failed", "control", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processing_folder": str(folder / "processing"),
        "failed_folder": str(folder / "failed"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "restore_interval": 0,
        **extra,
    }


def connect(folder: Path, **extra) -> Connection:
    return Connection(
        "filesystem://",
        transport="governance.broker:Transport",
        transport_options=options(folder, **extra),
    )


def publish(folder: Path, body: dict) -> None:
    with connect(folder) as conn:
        queue = Queue(QUEUE, Exchange(QUEUE), routing_key=QUEUE)
        producer = conn.Producer()
        producer.publish(body, exchange=queue.exchange, routing_key=QUEUE, declare=[queue])


def get(conn: Connection):
    return conn.SimpleQueue(QUEUE).get(timeout=1)


def files(folder: Path, sub: str) -> list[str]:
    return sorted(n for n in os.listdir(folder / sub) if not n.endswith((".owner", ".part")))


def test_ack_removes_the_message_for_good(tmp_path):
    publish(tmp_path, {"n": 1})
    with connect(tmp_path) as conn:
        message = get(conn)
        assert message.payload == {"n": 1}
        assert len(files(tmp_path, "processing")) == 1  # claimed, not deleted
        message.ack()
    assert files(tmp_path, "processing") == []
    assert files(tmp_path, "out") == []


def test_requeue_puts_the_message_back_once(tmp_path):
    publish(tmp_path, {"n": 2})
    with connect(tmp_path) as conn:
        get(conn).reject(requeue=True)
        again = get(conn)
        assert again.payload == {"n": 2}
        again.ack()
    assert files(tmp_path, "out") == [] and files(tmp_path, "processing") == []


CONSUMER = """
import json, sys, time
from kombu import Connection
conn = Connection("filesystem://", transport="governance.broker:Transport",
                  transport_options=json.loads(sys.argv[1]))
message = conn.SimpleQueue(sys.argv[2]).get(timeout=10)
print(json.dumps(message.payload), flush=True)
time.sleep(60)
"""


def test_a_killed_consumers_message_is_delivered_again(tmp_path):
    publish(tmp_path, {"n": 3})
    consumer = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, json.dumps(options(tmp_path)), QUEUE],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
    )
    try:
        assert json.loads(consumer.stdout.readline()) == {"n": 3}
        with connect(tmp_path) as conn, pytest.raises(conn.SimpleQueue(QUEUE).Empty):
            get(conn)  # its consumer lives: nobody else gets it
    finally:
        consumer.send_signal(signal.SIGKILL)
        consumer.wait()
        consumer.stdout.close()
    with connect(tmp_path) as conn:
        again = get(conn)
        assert again.payload == {"n": 3}
        again.ack()
    assert files(tmp_path, "out") == [] and files(tmp_path, "processing") == []


def test_a_live_consumers_message_is_not_delivered_twice(tmp_path):
    publish(tmp_path, {"n": 4})
    with connect(tmp_path) as first, connect(tmp_path) as second:
        message = get(first)
        assert message.payload == {"n": 4}
        with pytest.raises(second.SimpleQueue(QUEUE).Empty):
            get(second)
        message.ack()


def test_a_message_held_past_the_visibility_timeout_comes_back(tmp_path):
    publish(tmp_path, {"n": 5})
    with (
        connect(tmp_path, visibility_timeout=60) as first,
        connect(tmp_path, visibility_timeout=60) as second,
    ):
        assert get(first).payload == {"n": 5}
        (claimed,) = files(tmp_path, "processing")
        old = time.time() - 120
        os.utime(tmp_path / "processing" / claimed, (old, old))
        assert get(second).payload == {"n": 5}


def test_a_half_written_file_is_skipped_then_set_aside(tmp_path):
    options(tmp_path)
    # An older producer's file, created but not yet written.
    half = tmp_path / "out" / f"{int(time.time() * 1000):013d}_x.{QUEUE}.msg"
    half.write_bytes(b'{"body": "eyJ')
    publish(tmp_path, {"n": 6})
    with connect(tmp_path) as conn:
        message = get(conn)
        assert message.payload == {"n": 6}  # the worker carries on
        message.ack()
        assert half.exists()  # young: left for its writer to finish
    old = time.time() - 120
    os.utime(half, (old, old))
    with connect(tmp_path) as conn, pytest.raises(conn.SimpleQueue(QUEUE).Empty):
        get(conn)
    assert files(tmp_path, "failed") and not half.exists()


def test_a_reader_never_sees_a_partial_message(tmp_path):
    publish(tmp_path, {"n": 7, "pad": "x" * 200_000})
    assert all(n.endswith(".msg") for n in os.listdir(tmp_path / "out"))
