"""Object storage (issue 17): uploads, evidence and documents on an S3-compatible server
(moto's, a process of its own spoken to over HTTP: tests/storage/conftest.py), with the
media storage switched to django-storages' S3 backend as production settings switch it.

Each flow goes through the client as a user would: a scored file quarantined, validated
by the worker's service and published by content, then summarised to the same figures
as the local file; a rejected upload leaves no object; evidence uploaded, downloaded and
packed with matching hashes, never overwritten by a second file of the same name; a
generated document; a monitoring reference profile read from the bucket; the media
sweep; and nothing ever lands on the local disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.anchors import audit_anchor_record
from audit.models import AuditEvent
from audit.stored_files import media_sweep
from core.scored_io import ColumnMapping, summarise_file
from documents import rendering
from documents import services as documents
from documents.models import GeneratedDocument
from documents.services import generation
from fairness import services as svc
from fairness.models import BiasPartial, ScoredDataset
from governance.models import Obligation
from governance.services import obligations_recompute
from inventory.choices import RiskTier
from monitoring import services as monitoring
from tests.factories import ModelVersionFactory, UseCaseFactory
from tests.fairness.test_bias_services import (
    BAD_HEADS,
    BAD_ROWS,
    MAPPING,
    csv_bytes,
    parquet_bytes,
    scored_frame,
)
from tests.fairness.test_bias_services import upload as upload_validated
from tests.fairness.uploads import validate_queued
from tests.monitoring import monitoring_data
from tests.storage.s3_server import S3Server

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("s3")]

DATASETS = "/api/v1/scored-datasets/"


def upload(api, version, data: bytes, name: str, mapping=None):
    return api.post(
        DATASETS,
        {
            "model_version": version.pk,
            "file": SimpleUploadedFile(name, data),
            "mapping": json.dumps(mapping or MAPPING),
        },
        format="multipart",
    )


def local_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def expected_result(data: bytes, mapping: dict, options: dict, tmp_path, suffix: str) -> dict:
    """The summary of the same bytes read from a local file (the local-disk path)."""
    path = tmp_path / f"local.{suffix}"
    path.write_bytes(data)
    counts = summarise_file(str(path), ColumnMapping.from_dict(mapping))
    return json.loads(json.dumps(svc.summarise_counts(counts, options)))


def test_a_scored_csv_is_quarantined_published_by_content_and_summarised_from_the_bucket(
    s3, api_client_for, data_scientist, version, settings, tmp_path
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # spooled to a temporary file, then sent
    api = api_client_for(data_scientist)
    data = csv_bytes()
    sha = hashlib.sha256(data).hexdigest()
    answer = upload(api, version, data, "scores.csv")
    assert answer.status_code == 202, answer.content
    assert s3.objects() == [f"scored-quarantine/{sha[:2]}/{sha}.csv"]
    assert s3.read(s3.objects()[0]) == data

    validate_queued()  # what the worker runs

    body = api.get(f"{DATASETS}{answer.json()['id']}/").json()
    assert body["status"] == "valid" and body["rows"] == 2000
    assert s3.objects() == [f"scored-data/{sha[:2]}/{sha}.csv"]  # quarantine emptied
    download = api.get(body["download"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == sha

    options = {"reference": {"race": "A"}, "min_group_size": 20, "favourable_prediction": 1}
    requested = api.post(f"{DATASETS}{body['id']}/summaries/", options, format="json")
    assert requested.status_code == 202, requested.content
    svc.bias_summary_run(summary_id=requested.json()["id"])
    done = api.get(f"/api/v1/bias-summaries/{requested.json()['id']}/").json()
    assert done["status"] == "done"
    summary_options = ScoredDataset.objects.get().bias_summaries.get().options
    assert done["result"] == expected_result(data, MAPPING, summary_options, tmp_path, "csv")
    assert local_files(settings) == []


def test_a_parquet_upload_split_across_workers_merges_to_the_local_result(
    s3, api_client_for, data_scientist, version, settings, tmp_path
):
    settings.BIAS_SPLIT_MIN_ROWS = 1
    settings.BIAS_SPLIT_PARTS = 3
    settings.BIAS_SPLIT_WORKERS = 3  # the heavy queue runs three at once
    api = api_client_for(data_scientist)
    data = parquet_bytes(scored_frame(n=3000), row_group_size=400)
    mapping = {**MAPPING, "score": "score"}
    answer = upload(api, version, data, "scores.bin", mapping)
    assert answer.status_code == 202 and answer.json()["format"] == "parquet"
    validate_queued()
    dataset = ScoredDataset.objects.get()
    assert dataset.status == "valid" and dataset.row_groups == 8
    assert s3.objects() == [dataset.file.name]

    summary, _ = svc.bias_summary_request(dataset=dataset, by=data_scientist)
    assert svc.bias_summary_run(summary_id=summary.pk)["status"] == "split"
    for part in BiasPartial.objects.filter(summary=summary).order_by("index"):
        svc.bias_part_run(partial_id=part.pk, worker=f"w{part.index}")
    summary.refresh_from_db()
    assert summary.status == "done"
    assert summary.result == expected_result(data, mapping, summary.options, tmp_path, "parquet")


def test_a_rejected_or_refused_upload_leaves_no_object(s3, api_client_for, data_scientist, version):
    api = api_client_for(data_scientist)
    bad_head, _ = BAD_HEADS[next(iter(BAD_HEADS))]
    assert upload(api, version, bad_head, "head.csv").status_code == 400
    assert s3.objects() == []
    bad_rows, expected = BAD_ROWS["label outside 0/1"]
    answer = upload(api, version, bad_rows, "rows.csv")
    assert answer.status_code == 202 and len(s3.objects("scored-quarantine/")) == 1
    validate_queued()
    body = api.get(f"{DATASETS}{answer.json()['id']}/").json()
    assert body["status"] == "rejected" and all(part in body["error"] for part in expected)
    assert s3.objects() == []


def test_identical_bytes_are_stored_once_and_other_bytes_under_their_own_key(
    s3, api_client_for, data_scientist, version
):
    api = api_client_for(data_scientist)
    first, second = csv_bytes(seed=1), csv_bytes(seed=2)
    ids = [upload(api, version, first, "scores.csv").json()["id"]]
    assert upload(api, version, first, "again.csv").json()["id"] == ids[0]  # same bytes
    ids.append(upload(api, version, second, "scores.csv").json()["id"])  # same name
    validate_queued()
    names = [ScoredDataset.objects.get(pk=pk).file.name for pk in ids]
    assert len(set(names)) == 2 and s3.objects() == sorted(names)
    assert [s3.read(n) for n in names] == [first, second]


# --- Evidence, evidence packs and generated documents ------------------------------------

OBLIGATIONS = "/api/v1/obligations/"


@pytest.fixture
def obligation(team):
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.MEDIUM)
    ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    return Obligation.objects.get(use_case=use_case, consideration__code="human-signoff")


def submit(api, obligation, data: bytes, name="report.txt"):
    return api.post(
        f"{OBLIGATIONS}{obligation.pk}/evidence/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


def test_evidence_is_uploaded_downloaded_packed_and_never_overwritten(
    s3,
    api_client_for,
    client_for,
    data_scientist,
    risk_officer,
    auditor,
    obligation,
    settings,
    tmp_path,
):
    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "object-storage-test-key"
    api = api_client_for(data_scientist)
    first, second = b"Validation report, first draft.\n" * 50, b"Validation report, final.\n" * 50
    assert submit(api, obligation, first).status_code == 200
    obligation.refresh_from_db()
    first_key = obligation.evidence_file.name
    assert s3.objects() == [first_key] and s3.read(first_key) == first
    url = reverse(
        "governance:obligation-evidence-file", args=[obligation.use_case_id, obligation.pk]
    )
    download = client_for(auditor).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == first

    # The same file name again (a resubmission before review): a key of its own; the
    # first file, which the trail recorded by its SHA-256, keeps its bytes.
    answer = submit(api, obligation, second)
    assert answer.status_code == 200
    second_key = Obligation.objects.get(pk=obligation.pk).evidence_file.name
    assert second_key != first_key and s3.objects() == sorted([first_key, second_key])
    assert (s3.read(first_key), s3.read(second_key)) == (first, second)
    assert answer.json()["evidence_sha256"] == hashlib.sha256(second).hexdigest()

    # Accepted (what a sign-off then binds): no upload replaces it.
    assert (
        api_client_for(risk_officer).post(f"{OBLIGATIONS}{obligation.pk}/accept/").status_code
        == 200
    )
    refused = submit(api, obligation, b"something else\n")
    assert refused.status_code in (400, 409), refused.content
    assert s3.objects() == sorted([first_key, second_key]) and s3.read(second_key) == second

    # The auditor's evidence pack carries the stored file with the recorded hash.
    audit_anchor_record()
    reader = api_client_for(auditor)
    made = reader.post(
        "/api/v1/evidence-packs/",
        {"scope": "use_case", "use_case": obligation.use_case_id},
        format="json",
    )
    assert made.status_code == 202, made.content
    documents.evidence_pack_build(pack_id=made.json()["id"])
    row = reader.get(f"/api/v1/evidence-packs/{made.json()['id']}/").json()
    assert row["status"] == "done" and row["counts"]["missing"] == 0
    assert row["counts"]["mismatched"] == 0 and row["counts"]["evidence_files"] >= 1
    pack = reader.get(f"/api/v1/evidence-packs/{made.json()['id']}/file/")
    body = b"".join(pack.streaming_content)
    assert hashlib.sha256(body).hexdigest() == row["sha256"]
    assert any(k.startswith("evidence-packs/") for k in s3.objects())
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        evidence = [f for f in manifest["files"] if f["kind"] == "evidence"]
        packed = {f["sha256"]: archive.read(f["path"]) for f in evidence}
    assert packed[hashlib.sha256(second).hexdigest()] == second
    assert local_files(settings) == []


def test_a_generated_document_is_stored_in_the_bucket_and_downloads(
    s3, api_client_for, risk_officer, auditor, version, monkeypatch, settings
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)  # the Word file only
    made = api_client_for(risk_officer).post(
        "/api/v1/documents/", {"kind": "model_card", "model_version": version.pk}, format="json"
    )
    assert made.status_code == 202, made.content
    generation.document_render(document_id=made.json()["id"])
    reader = api_client_for(auditor)
    row = reader.get(f"/api/v1/documents/{made.json()['id']}/").json()
    word = reader.get(f"/api/v1/documents/{made.json()['id']}/docx/")
    assert word.status_code == 200
    assert hashlib.sha256(b"".join(word.streaming_content)).hexdigest() == row["docx_sha256"]
    assert [k for k in s3.objects() if k.startswith("documents/docx/")] == [
        GeneratedDocument.objects.get().docx.name
    ]
    assert local_files(settings) == []


# --- Monitoring ----------------------------------------------------------------------------


def test_the_reference_profile_is_built_from_the_bucket_and_a_batch_is_stored_there(
    s3, data_scientist, version, settings
):
    reference = monitoring_data.reference_dataset(version, data_scientist)
    assert reference.status == "valid" and s3.objects() == [reference.file.name]
    config = monitoring_data.configure(version, data_scientist, reference)
    profile = monitoring.reference_profile_of(config)
    assert profile.status == "ready" and profile.rows == 4000
    batch, created = monitoring_data.send(
        config,
        data_scientist,
        monitoring_data.rows(300, seed=5, start=monitoring_data.NOW - dt.timedelta(days=1)),
    )
    assert created and batch.dataset.file.name in s3.objects()
    assert local_files(settings) == []


# --- The media sweep and /readyz ---------------------------------------------------------


def test_the_media_sweep_removes_an_orphan_object_and_keeps_what_a_record_names(
    s3, data_scientist, version
):
    dataset, _ = upload_validated(version, data_scientist, csv_bytes())
    orphan = default_storage.save("scored-data/00/orphan.csv", ContentFile(b"y,y_hat\n1,0\n"))
    later = timezone.now() + dt.timedelta(hours=2)  # both past the grace period
    dry = media_sweep(dry_run=True, now=later)
    assert dry.names == [orphan] and s3.objects() == sorted([orphan, dataset.file.name])
    report = media_sweep(now=later)
    assert report.names == [orphan] and report.referenced == 1
    assert s3.objects() == [dataset.file.name]
    event = AuditEvent.objects.get(action="media.orphans_removed")
    assert orphan in event.reason


def test_readyz_reports_the_bucket_and_its_outage(s3_server, client, db, settings, tmp_path):
    own = S3Server(tmp_path).start()  # the session's server keeps running for the others
    try:
        settings.STORAGES = {**settings.STORAGES, "default": own.storage(own.new_bucket())}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.content
        assert ready.json()["checks"]["storage"] == "ok"
        assert own.objects(settings.STORAGES["default"]["OPTIONS"]["bucket_name"]) == []
    finally:
        own.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "ok", "storage": "failing"},
        "failing": ["storage"],
    }
