"""Servers an integration test starts for itself, so that stopping or killing them
disturbs neither CI's services nor other tests: Redis here (PostgreSQL in
test_database_restart.py)."""

import shutil
import subprocess
import time

import pytest

from tests.integration.web_server import free_port


class PrivateRedis:
    """redis-server on 127.0.0.1 and a free port, no persistence."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=(self.folder / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        import redis  # celery[redis]: installed with the product

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        pytest.fail("the private redis-server did not answer PING")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def private_redis(folder) -> PrivateRedis:
    """A started PrivateRedis; skips the test when redis-server is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(folder)
    server.start()
    return server
