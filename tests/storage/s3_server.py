"""moto's S3 server as a process of its own, for the object storage tests (issue 17):
started on a free loopback port, spoken to over HTTP by boto3 and django-storages."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from governance.settings_storage import media_storage

REQUIRED = os.environ.get("REQUIRE_S3") == "1"
NEEDED = ("moto", "flask", "boto3", "storages")
START_TIMEOUT = 60
ACCESS_KEY, SECRET_KEY, REGION = "governance-test", "governance-test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """A ``moto.server`` process serving S3 on 127.0.0.1:``port`` (stopped and started
    again on the same port, with its buckets gone, by ``stop`` / ``start``)."""

    def __init__(self, where: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = where / f"moto-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> S3Server:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.client().list_buckets()
                return self
            except Exception:  # noqa: BLE001 - not listening yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"moto's S3 server did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
        )

    def new_bucket(self) -> str:
        bucket = f"governance-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def storage(self, bucket: str) -> dict:
        """``STORAGES["default"]`` for the bucket, made as the production settings make it
        from DJANGO_STORAGE_BACKEND and DJANGO_STORAGE_OPTIONS (no overwrite, big objects
        spooled to disk)."""
        return media_storage(
            "storages.backends.s3.S3Storage",
            {
                "bucket_name": bucket,
                "endpoint_url": self.url,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
            },
        )

    def objects(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def require_s3() -> None:
    """Skip (fail under REQUIRE_S3=1) when the S3 server or client is not installed."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        reason = (
            f"{', '.join(missing)} not installed: the object storage tests need "
            "requirements-dev.txt (make venv-dev)"
        )
        if REQUIRED:
            pytest.fail(reason + "; REQUIRE_S3=1")
        pytest.skip(reason)
