"""A real S3-compatible server for the object storage tests (issue 17).

moto's S3 server (``python -m moto.server``, requirements-dev.txt) is started once per
test session as its own process on a free loopback port, and spoken to over HTTP by
django-storages' S3 backend and boto3, as a bucket on AWS, MinIO or Ceph would be. Each
test gets a bucket of its own and the media storage pointed at it
(``STORAGES["default"]``, as ``DJANGO_STORAGE_BACKEND`` / ``DJANGO_STORAGE_OPTIONS`` set
it in production, ``file_overwrite`` off). Skipped when moto, boto3 or django-storages is
not installed, unless REQUIRE_S3=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import pytest

from tests.storage.s3_server import S3Server, require_s3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    require_s3()
    server = S3Server(tmp_path_factory.mktemp("s3")).start()
    try:
        yield server
    finally:
        server.stop()


class Bucket:
    """The test's bucket on the S3 server, which the media storage now is."""

    def __init__(self, server: S3Server, name: str) -> None:
        self.server, self.name = server, name

    def objects(self, prefix: str = "") -> list[str]:
        return self.server.objects(self.name, prefix)

    def read(self, key: str) -> bytes:
        return self.server.read(self.name, key)


@pytest.fixture
def s3(s3_server, settings, tmp_path):
    """The media storage switched to a fresh bucket of the S3 server; the local media
    folder points at an empty folder, which must stay empty."""
    bucket = s3_server.new_bucket()
    settings.MEDIA_ROOT = tmp_path / "local-media"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(bucket)}
    return Bucket(s3_server, bucket)
