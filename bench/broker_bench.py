"""Brokers that need no server, compared for the embedded default (issue 13).

    .venv/bin/python bench/broker_bench.py [--messages 500]

For each transport: kombu's ``filesystem://`` as shipped, ours
(``governance.broker:Transport``) and, when SQLAlchemy is installed, kombu's
``sqla+sqlite://`` on a file:

- ``publish/s`` and ``consume/s``: one process publishes N messages, then consumes and
  acknowledges them (a kombu ``SimpleQueue``);
- ``redelivered``: a child process takes a message without acknowledging it and is
  killed with SIGKILL; does a new consumer get the message, and after how long;
- ``half-written``: a message file created but not yet written is in the queue (what a
  consumer meets while a producer writes): does the consumer carry on (filesystem only).

Prints a table and writes ``bench/out/broker_bench-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
sys.path.insert(0, str(ROOT))

QUEUE = "bench"


def fs_options(folder: Path) -> dict:
    for sub in ("out", "processing", "failed", "control", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processing_folder": str(folder / "processing"),
        "failed_folder": str(folder / "failed"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "polling_interval": 0.1,
        "restore_interval": 1,
    }


def transports(folder: Path) -> dict[str, dict]:
    out = {
        "filesystem (kombu)": {
            "url": "filesystem://",
            "transport": None,
            "options": fs_options(folder / "kombu"),
        },
        "filesystem (ours)": {
            "url": "filesystem://",
            "transport": "governance.broker:Transport",
            "options": fs_options(folder / "ours"),
        },
    }
    try:
        import sqlalchemy  # noqa: F401

        out["sqlalchemy on SQLite"] = {
            "url": f"sqla+sqlite:///{folder / 'broker.sqlite3'}",
            "transport": None,
            "options": {},
        }
    except ImportError:
        pass
    return out


def connection(spec: dict):
    from kombu import Connection

    return Connection(spec["url"], transport=spec["transport"], transport_options=spec["options"])


def throughput(spec: dict, n: int) -> tuple[float, float]:
    with connection(spec) as conn:
        queue = conn.SimpleQueue(QUEUE)
        started = time.perf_counter()
        for i in range(n):
            queue.put({"i": i, "pad": "x" * 200})
        published = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(n):
            queue.get(timeout=10).ack()
        consumed = time.perf_counter() - started
        queue.close()
    return n / published, n / consumed


CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from kombu import Connection
spec = json.loads(sys.argv[1])
conn = Connection(spec["url"], transport=spec["transport"], transport_options=spec["options"])
message = conn.SimpleQueue("bench").get(timeout=10)
print("got", flush=True)
time.sleep(120)
"""


def redelivery(spec: dict, wait: float) -> float | None:
    """Seconds until a new consumer gets the message of a consumer killed with SIGKILL."""
    with connection(spec) as conn:
        conn.SimpleQueue(QUEUE).put({"job": 1})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(spec), str(ROOT)], stdout=subprocess.PIPE
    )
    try:
        child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    killed = time.perf_counter()
    with connection(spec) as conn:
        queue = conn.SimpleQueue(QUEUE)
        try:
            message = queue.get(timeout=wait)
        except queue.Empty:
            return None
        message.ack()
        return time.perf_counter() - killed


def half_written(spec: dict) -> str:
    if not spec["url"].startswith("filesystem"):
        return "n/a"
    folder = Path(spec["options"]["data_folder_in"])
    (folder / f"0000000000000_half.{QUEUE}.msg").write_bytes(b'{"body": "eyJ')
    with connection(spec) as conn:
        queue = conn.SimpleQueue(QUEUE)
        queue.put({"after": 1})
        try:
            message = queue.get(timeout=5)
            message.ack()
            return "skipped, carried on"
        except Exception as exc:  # noqa: BLE001 - what the consumer meets is the result
            return f"{type(exc).__name__}: the consumer stops"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--wait", type=float, default=20.0, help="redelivery wait, seconds")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in transports(Path(tmp)).items():
            from kombu.transport.filesystem import Transport

            Transport.global_state.clear()  # bindings are kept per process, not per folder
            pub, con = throughput(spec, args.messages)
            again = redelivery(spec, args.wait)
            half = half_written(spec)
            row = {
                "transport": name,
                "publish_per_s": round(pub),
                "consume_per_s": round(con),
                "redelivered_after_kill_s": None if again is None else round(again, 2),
                "half_written_file": half,
            }
            rows.append(row)
            after = f"never (waited {args.wait:.0f} s)" if again is None else f"{again:.2f} s"
            print(
                f"{name:<22} publish {row['publish_per_s']:>6}/s  consume "
                f"{row['consume_per_s']:>5}/s  after kill -9: {after}  half-written file: {half}",
                flush=True,
            )
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"broker_bench-{stamp}.json"
    payload = {"messages": args.messages, "load_average": os.getloadavg(), "rows": rows}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
