"""Evidence packs and governance documents built by a real Celery worker process
(issue 15): the task sent through the broker builds the pack on the committed test
database and the offline verifier passes on it; the document's PDF and Word files are
rendered by the worker (Chromium, where it is installed) and stored by SHA-256; a
second delivery changes nothing."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audit.anchors import audit_anchor_record
from core import evidence_verifier
from documents import rendering
from documents.models import EvidencePack, GeneratedDocument
from documents.services import evidence_pack_request
from documents.services.generation import document_request
from documents.tasks import document_render, evidence_pack_build
from tests.documents import packs
from tests.factories import ModelVersionFactory, ObligationFactory, UseCaseFactory
from tests.integration.test_bias_worker import Workers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_worker_builds_a_pack_and_renders_a_document(
    tmp_path, media, settings, team, auditor, risk_officer
):
    anchors = {"AUDIT_ANCHOR_LOG": str(tmp_path / "anchors.log"), "AUDIT_ANCHOR_KEY": "k" * 32}
    settings.AUDIT_ANCHOR_LOG, settings.AUDIT_ANCHOR_KEY = tmp_path / "anchors.log", "k" * 32
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    obligation = ObligationFactory(use_case=version.model.use_case, model_version=version)
    body = b"evidence\n" * 100
    obligation.evidence_file.name = default_storage.save(
        "obligations/evidence/2026/12/e.txt", ContentFile(body)
    )
    obligation.evidence_sha256 = hashlib.sha256(body).hexdigest()
    obligation.save()
    audit_anchor_record()
    pack = evidence_pack_request(user=auditor, scope="version", model_version=version)
    document, _ = document_request(user=risk_officer, version=version, kind="annex_iv")

    workers = Workers(tmp_path, media, anchors)
    try:
        worker = workers.start("documents")
        built = worker.result_of(worker.send(evidence_pack_build, pack_id=pack.pk), timeout=120)
        assert built["status"] == "done", built
        again = worker.result_of(worker.send(evidence_pack_build, pack_id=pack.pk), timeout=60)
        assert again["status"] == "done already"
        rendered = worker.result_of(
            worker.send(document_render, document_id=document.pk), timeout=180
        )
        assert rendered["status"] == "done", rendered
    finally:
        workers.stop_all()

    pack = EvidencePack.objects.get(pk=pack.pk)
    assert pack.counts["evidence_files"] == 1
    code, out = packs.check(packs.unpack(pack, tmp_path / "pack"))
    assert code == evidence_verifier.INTACT, out
    document = GeneratedDocument.objects.get(pk=document.pk)
    assert document.docx and document.docx_sha256
    with document.docx.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == document.docx_sha256
    if rendering.chromium() is not None:
        with document.pdf.open("rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == document.pdf_sha256
