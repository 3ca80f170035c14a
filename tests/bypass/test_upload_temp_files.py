"""An upload cut off mid-way leaves no file behind, and what a killed web process left
in the upload folder is removed by the next upload (issue 13: a killed upload left its
temporary file in /tmp)."""

import json
import os
import time
from unittest import mock

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile

from fairness.models import ScoredDataset
from tests.fairness.test_bias_services import MAPPING, csv_bytes

pytestmark = pytest.mark.django_db

DATASETS = "/api/v1/scored-datasets/"


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    return tmp_path / "uploads"


def spooled(folder) -> list[str]:
    """Every file under the upload folder but the process folders' lock files."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name != ".lock")


def payload(version, data: bytes):
    return {
        "model_version": version.pk,
        "file": SimpleUploadedFile("scores.csv", data),
        "mapping": json.dumps(MAPPING),
    }


def cut_off(self, chunk_size=None):
    yield self.read(1024)
    raise OSError("connection reset by peer")


def test_an_upload_cut_off_mid_way_leaves_no_file(
    api_client_for, data_scientist, version, media, upload_dir
):
    api = api_client_for(data_scientist)
    api.raise_request_exception = False
    with mock.patch.object(InMemoryUploadedFile, "chunks", cut_off):
        response = api.post(DATASETS, payload(version, csv_bytes()), format="multipart")
    assert response.status_code not in (201, 202)  # the client is gone: nothing is stored
    assert spooled(upload_dir) == []
    assert not ScoredDataset.objects.exists()


def test_the_next_upload_removes_what_a_killed_process_left(
    api_client_for, data_scientist, version, media, upload_dir
):
    stale = upload_dir / "scored-killed.upload"
    stale.write_bytes(b"half an upload")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = upload_dir / "scored-in-progress.upload"
    fresh.write_bytes(b"another upload, still being received")
    response = api_client_for(data_scientist).post(
        DATASETS, payload(version, csv_bytes()), format="multipart"
    )
    assert response.status_code == 202, response.content  # quarantined (issue 18)
    assert not stale.exists()
    assert fresh.exists()
    assert sorted(p.name for p in upload_dir.iterdir() if p.is_file()) == [
        "scored-in-progress.upload"
    ]
    assert spooled(upload_dir) == ["scored-in-progress.upload"]
