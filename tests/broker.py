"""Point the test process's Celery app (what ``notifications.jobs`` publishes through)
at another broker: kombu's in-memory transport for the whole session (no test leaves a
message in a developer's broker), a closed port (a broker that is down), or a worker's
private broker. Real kombu connections, no mock."""

from __future__ import annotations

import socket
from contextlib import contextmanager

from governance.celery import app as celery_app

KEYS = (
    "broker_url",
    "broker_read_url",
    "broker_write_url",
    "broker_transport",
    "broker_transport_options",
)


def _reset() -> None:
    # Dropped, not closed: kombu keeps one pool per broker and hands it out again.
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def app_broker(url: str, transport_options: dict | None = None, transport: str | None = None):
    """Publish to ``url`` inside the block."""
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in KEYS}
    _reset()
    conf.update(
        broker_url=url,
        broker_read_url=url,
        broker_write_url=url,
        broker_transport=transport,
        broker_transport_options=transport_options or {},
    )
    try:
        yield
    finally:
        _reset()
        conf.update(saved)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def broker_down():
    """A Redis broker that refuses connections (a port nothing listens on)."""
    with app_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        yield
