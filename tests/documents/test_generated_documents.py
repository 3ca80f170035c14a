"""Governance documents generated from the records (issue 15): Annex IV technical
documentation, validation report and model card, as PDF and Word; the same records
give the same content hash; who may ask; what a version with almost no records gets."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from accounts.roles import Role
from audit.models import AuditEvent
from documents import rendering
from documents.models import GeneratedDocument
from documents.services import generation
from notifications.models import JobMarker
from tests.factories import FindingFactory, ModelVersionFactory, ObligationFactory

pytestmark = pytest.mark.django_db

needs_chromium = pytest.mark.skipif(
    rendering.chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


def render(user, version, kind):
    document, _ = generation.document_request(user=user, version=version, kind=kind)
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.DONE, document.error
    return document


def pdf_text(document) -> str:
    with document.pdf.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(handle).pages)


def docx_text(document) -> str:
    with document.docx.open("rb") as handle:
        word = Document(io.BytesIO(handle.read()))
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in word.paragraphs] + cells)


@pytest.fixture
def version(media, team, data_scientist):
    return ModelVersionFactory(model__use_case__team=team)


@needs_chromium
def test_a_version_with_almost_no_records_gets_documents_that_say_what_is_missing(
    version, risk_officer
):
    for kind in GeneratedDocument.SUBJECT_KINDS:
        document = render(risk_officer, version, kind)
        assert document.missing_count > 0
        text = pdf_text(document)
        assert version.artifact_sha256 in text.replace("\n", "")
        assert "Not yet in the records" in text
        assert document.content_sha256 in text.replace("\n", "")
        word = docx_text(document)
        assert version.artifact_sha256 in word and "Not yet in the records" in word
        with document.pdf.open("rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == document.pdf_sha256


def test_the_same_records_give_the_same_document_and_a_change_gives_a_new_one(
    version, risk_officer, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    first, queued = generation.document_request(
        user=risk_officer, version=version, kind="model_card"
    )
    assert queued and JobMarker.objects.filter(task="documents.tasks.document_render").count() == 1
    again, queued_again = generation.document_request(
        user=risk_officer, version=version, kind="model_card"
    )
    assert again.pk == first.pk and not queued_again
    assert (
        generation.document_content(version=version, kind="model_card")[1] == first.content_sha256
    )

    FindingFactory(model_version=version, title="Calibration drifts above 0.6")

    changed, queued_changed = generation.document_request(
        user=risk_officer, version=version, kind="model_card"
    )
    assert queued_changed and changed.pk != first.pk
    assert changed.content_sha256 != first.content_sha256


def test_without_chromium_the_word_file_is_made_and_the_page_says_why_there_is_no_pdf(
    version, risk_officer, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    document = render(risk_officer, version, "annex_iv")
    assert not document.pdf and document.docx
    assert "Chromium is not installed" in document.pdf_unavailable
    client = client_for(risk_officer)
    page = client.get(reverse("documents:document", args=[document.pk]))
    assert b"Chromium is not installed" in page.content
    assert (
        client.get(reverse("documents:document-download", args=[document.pk, "pdf"])).status_code
        == 409
    )
    word = client.get(reverse("documents:document-download", args=[document.pk, "docx"]))
    assert word.status_code == 200
    assert hashlib.sha256(b"".join(word.streaming_content)).hexdigest() == document.docx_sha256
    assert AuditEvent.objects.filter(action="document.downloaded", actor=risk_officer).count() == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.APPROVER])
def test_auditors_and_approvers_read_documents_but_do_not_ask_for_them(
    role, version, users_by_role, risk_officer, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    document = render(risk_officer, version, "model_card")
    client = client_for(users_by_role[role])
    before = AuditEvent.objects.exclude(action="access.refused").count()

    answer = client.post(
        reverse("documents:document-request", args=[version.pk]), {"kind": "annex_iv"}
    )

    assert answer.status_code == 403
    assert b"auditors and approvers read them" in answer.content
    assert GeneratedDocument.objects.count() == 1
    assert AuditEvent.objects.exclude(action="access.refused").count() == before
    assert client.get(reverse("documents:document", args=[document.pk])).status_code == 200
    download = client.get(reverse("documents:document-download", args=[document.pk, "docx"]))
    assert download.status_code == 200


def test_a_data_scientist_asks_on_the_version_page_and_a_bad_kind_is_a_400(
    version, data_scientist, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    client = client_for(data_scientist)
    page = client.get(reverse("reviews:version", args=[version.pk]))
    assert page.status_code == 200 and b'data-generate="validation_report"' in page.content
    bad = client.post(reverse("documents:document-request", args=[version.pk]), {"kind": "memo"})
    assert bad.status_code == 400 and GeneratedDocument.objects.count() == 0
    made = client.post(
        reverse("documents:document-request", args=[version.pk]), {"kind": "validation_report"}
    )
    document = GeneratedDocument.objects.get()
    assert made.status_code == 302
    assert made["Location"] == reverse("documents:document", args=[document.pk])
    status = client.get(reverse("documents:document-status", args=[document.pk])).json()
    assert status["finished"] is False
    for name, args in (
        ("documents:document-download", [document.pk, "exe"]),
        ("documents:document", [999999]),
        ("documents:version-documents", [999999]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404


def test_someone_without_a_role_gets_nothing(version, no_role_user, client_for):
    client = client_for(no_role_user)
    assert client.get(reverse("documents:version-documents", args=[version.pk])).status_code == 403
    answer = client.post(
        reverse("documents:document-request", args=[version.pk]), {"kind": "model_card"}
    )
    assert answer.status_code == 403
    assert GeneratedDocument.objects.count() == 0


def test_a_document_filed_as_evidence_gives_the_obligation_its_file_and_hash(
    version, data_scientist, risk_officer, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    document = render(risk_officer, version, "annex_iv")
    obligation = ObligationFactory(use_case=version.model.use_case, model_version=version)
    elsewhere = ObligationFactory(model_version=ModelVersionFactory())
    client = client_for(data_scientist)  # of the use case's team

    wrong = client.post(
        reverse("documents:document-file", args=[document.pk]),
        {"obligation": elsewhere.pk, "format": "docx"},
    )
    assert wrong.status_code == 400
    no_pdf = client.post(
        reverse("documents:document-file", args=[document.pk]),
        {"obligation": obligation.pk, "format": "pdf"},
    )
    assert no_pdf.status_code == 400 and b"has no PDF" in no_pdf.content
    obligation.refresh_from_db()
    assert obligation.status == "open" and not obligation.evidence_sha256

    filed = client.post(
        reverse("documents:document-file", args=[document.pk]),
        {"obligation": obligation.pk, "format": "docx"},
    )
    assert filed.status_code == 302
    obligation.refresh_from_db()
    assert obligation.status == "evidence_submitted"
    assert obligation.evidence_sha256 == document.docx_sha256
    assert obligation.evidence_artifact_sha256 == version.artifact_sha256
    assert AuditEvent.objects.filter(action="document.filed_as_evidence").count() == 1


def test_someone_outside_the_team_cannot_file_a_document_as_evidence(
    version, risk_officer, other_data_scientist, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    document = render(risk_officer, version, "model_card")
    obligation = ObligationFactory(use_case=version.model.use_case, model_version=version)
    answer = client_for(other_data_scientist).post(
        reverse("documents:document-file", args=[document.pk]),
        {"obligation": obligation.pk, "format": "docx"},
    )
    assert answer.status_code == 403
    obligation.refresh_from_db()
    assert obligation.status == "open" and not obligation.evidence_file


def test_the_api_asks_reads_filters_and_downloads(
    version, risk_officer, auditor, api_client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    api = api_client_for(risk_officer)
    made = api.post(
        "/api/v1/documents/", {"kind": "model_card", "model_version": version.pk}, format="json"
    )
    assert made.status_code == 202, made.content
    document_id = made.json()["id"]
    same = api.post(
        "/api/v1/documents/", {"kind": "model_card", "model_version": version.pk}, format="json"
    )
    assert same.status_code == 200 and same.json()["id"] == document_id
    assert api.get(f"/api/v1/documents/{document_id}/docx/").status_code == 404  # not rendered
    generation.document_render(document_id=document_id)

    reader = api_client_for(auditor)
    listed = reader.get(f"/api/v1/documents/?model_version={version.pk}&kind=model_card").json()
    assert [row["id"] for row in listed["results"]] == [document_id]
    assert reader.get("/api/v1/documents/?model_version=abc").status_code == 400
    word = reader.get(f"/api/v1/documents/{document_id}/docx/")
    assert word.status_code == 200
    row = reader.get(f"/api/v1/documents/{document_id}/").json()
    assert hashlib.sha256(b"".join(word.streaming_content)).hexdigest() == row["docx_sha256"]
    assert reader.get(f"/api/v1/documents/{document_id}/pdf/").status_code == 404  # no Chromium
    refused = reader.post(
        "/api/v1/documents/", {"kind": "annex_iv", "model_version": version.pk}, format="json"
    )
    assert refused.status_code == 403
    bad = api.post(
        "/api/v1/documents/",
        {"kind": "annex_iv", "model_version": version.pk, "content": {}},
        format="json",
    )
    assert bad.status_code == 400 and "content" in bad.json()
    assert GeneratedDocument.objects.count() == 1


def test_use_case_obligations_and_pasted_control_characters_reach_the_documents(
    version, risk_officer, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    use_case = version.model.use_case
    use_case.purpose = "Scores applications.\x0bPasted from a form\x0c with a page break."
    use_case.save()
    ObligationFactory(use_case=use_case, model_version=None)  # the use case's own
    document = render(risk_officer, version, "annex_iv")
    rows = [
        b["rows"]
        for s in document.content["sections"]
        for b in s["blocks"]
        if b["type"] == "table" and "Consideration" in b.get("columns", [])
    ]
    assert rows and len(rows[0]) == 1
    assert "Pasted from a form with a page break." in docx_text(document)
