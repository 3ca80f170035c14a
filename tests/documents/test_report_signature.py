"""The validator signs the validation report itself (issue 15): an e-signature with the
meaning "validated", password typed again, binding the report's content hash and
files; a worker prints the signed PDF and Word file with the manifestation. Each test
is someone trying to get around it: another person, an API token, old records, a
second signature, a wrong password, a changed row."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.db import connection, transaction
from django.urls import reverse
from docx import Document
from pypdf import PdfReader
from rest_framework.test import APIClient

from audit.append_only import AppendOnlyError
from audit.models import AuditEvent
from core.promotion_rules import manifest_hash
from documents import rendering
from documents.models import DocumentSignature, GeneratedDocument
from documents.services import generation, signing
from reviews.models import SigningFailure
from tests.factories import (
    PASSWORD,
    FindingFactory,
    ModelVersionFactory,
    signed_validation,
    validator_user,
)

pytestmark = pytest.mark.django_db

needs_chromium = pytest.mark.skipif(
    rendering.chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
def world(media, team, risk_officer):
    version = ModelVersionFactory(model__use_case__team=team)
    validator = validator_user("val-signer")
    signed_validation(version, by=validator)
    return version, validator


def report_of(version, user):
    document, _ = generation.document_request(
        user=user, version=version, kind=GeneratedDocument.Kind.VALIDATION_REPORT
    )
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.DONE, document.error
    return document


def session_api(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def refusals(document) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            action="signature.refused", object_id=str(document.pk)
        ).values_list("reason", flat=True)
    )


def word_text(file) -> str:
    with file.open("rb") as handle:
        word = Document(io.BytesIO(handle.read()))
    return "\n".join(p.text for p in word.paragraphs)


@needs_chromium
def test_the_validator_signs_on_the_page_and_the_signed_pdf_shows_the_manifestation(
    world, risk_officer, client_for
):
    version, validator = world
    document = report_of(version, risk_officer)
    client = client_for(validator)
    page = client.get(reverse("documents:document", args=[document.pk]))
    assert b'id="sign-report"' in page.content
    dialog = client.get(reverse("documents:document-sign", args=[document.pk]))
    assert dialog.status_code == 200 and document.content_sha256.encode() in dialog.content

    wrong = client.post(reverse("documents:document-sign", args=[document.pk]), {"password": "x"})
    assert wrong.status_code == 400 and b"not correct" in wrong.content
    assert not DocumentSignature.objects.exists()
    assert SigningFailure.objects.filter(user=validator).count() == 1

    signed = client.post(
        reverse("documents:document-sign", args=[document.pk]), {"password": PASSWORD}
    )
    assert signed.status_code == 302
    signature = DocumentSignature.objects.get(document=document)
    assert signature.signer == validator and signature.meaning == "validated"
    assert signature.manifest["content_sha256"] == document.content_sha256
    assert signature.manifest["pdf_sha256"] == document.pdf_sha256
    assert signature.manifest["artifact_sha256"] == version.artifact_sha256
    assert signature.manifest_hash == manifest_hash(signature.manifest)
    assert AuditEvent.objects.filter(action="document.signed", actor=validator).count() == 1

    # The worker prints it again with the signature (the queued job, run here).
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.signed_pdf and document.signed_docx and not document.signed_files_pending
    with document.signed_pdf.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == document.signed_pdf_sha256
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = text.replace("\n", "")
    assert "Signature of this report" in text
    assert signature.printed_name in flat and "Validated" in text
    assert signature.manifest_hash in flat
    assert f"{signature.signed_at:%Y-%m-%d %H:%M}" in flat  # the UTC time, printed
    assert version.artifact_sha256 in flat
    # The unsigned files stay what they were; the signed Word file carries it too.
    assert document.pdf_sha256 == signature.manifest["pdf_sha256"]
    assert signature.manifest_hash in word_text(document.signed_docx)

    download = client.get(reverse("documents:document-download", args=[document.pk, "signed-pdf"]))
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == (
        document.signed_pdf_sha256
    )
    assert "-signed.pdf" in download["Content-Disposition"]

    # Nobody signs it twice, not even its validator.
    again = client.post(
        reverse("documents:document-sign", args=[document.pk]), {"password": PASSWORD}
    )
    assert again.status_code == 403 and DocumentSignature.objects.count() == 1


def test_another_validator_cannot_sign_in_the_validators_name(world, risk_officer):
    version, _validator = world
    document = report_of(version, risk_officer)
    other = validator_user("another-validator")
    for user in (other, risk_officer):
        response = session_api(user).post(
            f"/api/v1/documents/{document.pk}/sign/", {"password": PASSWORD}, format="json"
        )
        assert response.status_code == 403
        assert "nobody signs in another person's name" in response.json()["detail"]
    assert not DocumentSignature.objects.exists()
    assert len(refusals(document)) == 2


def test_an_api_token_cannot_sign_even_with_the_right_password(world, risk_officer, api_client_for):
    version, validator = world
    document = report_of(version, risk_officer)
    response = api_client_for(validator).post(
        f"/api/v1/documents/{document.pk}/sign/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403 and "API token cannot sign" in response.json()["detail"]
    assert not DocumentSignature.objects.exists()
    assert refusals(document)


def test_a_report_of_old_records_is_refused_and_the_new_one_is_signed(world, risk_officer):
    version, validator = world
    old = report_of(version, risk_officer)
    FindingFactory(model_version=version, title="Calibration drifts in the last quarter")
    response = session_api(validator).post(
        f"/api/v1/documents/{old.pk}/sign/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 403 and "records changed" in response.json()["detail"]
    assert not DocumentSignature.objects.exists()

    new = report_of(version, risk_officer)
    assert new.pk != old.pk
    response = session_api(validator).post(
        f"/api/v1/documents/{new.pk}/sign/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["signature"]["manifest"]["content_sha256"] == new.content_sha256
    assert body["signature"]["printed_name"] == DocumentSignature.objects.get().printed_name


def test_an_unsigned_validation_or_another_kind_of_document_is_not_signed(
    media, team, risk_officer
):
    version = ModelVersionFactory(model__use_case__team=team)
    validator = validator_user("draft-validator")
    from reviews.services.validation import validation_record

    validation_record(
        version=version,
        by=validator,
        scope="s",
        conceptual_soundness="c",
        data="d",
        outcomes_analysis="o",
        limitations="l",
        conclusion="approve",
        findings_raised=[],
    )
    report = report_of(version, risk_officer)
    why = signing.document_sign_refusal(document=report, by=validator)
    assert why and "not signed yet" in why
    card, _ = generation.document_request(user=risk_officer, version=version, kind="model_card")
    assert "Only a model validation report" in signing.document_sign_refusal(
        document=card, by=validator
    )


def test_the_signature_binds_and_cannot_be_changed(world, risk_officer):
    version, validator = world
    document = report_of(version, risk_officer)
    signature = signing.document_sign(document=document, by=validator, password=PASSWORD)
    with pytest.raises(AppendOnlyError):
        DocumentSignature.objects.filter(pk=signature.pk).update(printed_name="Someone else")
    # The database's own guard (the driver's error, whichever database).
    with pytest.raises(Exception), transaction.atomic(), connection.cursor() as cursor:  # noqa: B017
        cursor.execute(
            "UPDATE documents_documentsignature SET printed_name = 'x' WHERE id = %s",
            [signature.pk],
        )
    signature.refresh_from_db()
    assert signature.printed_name != "x"


def test_wrong_passwords_lock_document_signing_like_every_signed_act(world, risk_officer, settings):
    version, validator = world
    document = report_of(version, risk_officer)
    api = session_api(validator)
    for _ in range(settings.SIGNING_MAX_FAILURES):
        response = api.post(
            f"/api/v1/documents/{document.pk}/sign/", {"password": "wrong"}, format="json"
        )
        assert response.status_code == 400
    locked = api.post(
        f"/api/v1/documents/{document.pk}/sign/", {"password": PASSWORD}, format="json"
    )
    assert locked.status_code == 403 and "locked" in locked.json()["detail"]
    assert not DocumentSignature.objects.exists()


def test_an_unknown_field_in_the_signing_payload_is_refused(world, risk_officer):
    version, validator = world
    document = report_of(version, risk_officer)
    response = session_api(validator).post(
        f"/api/v1/documents/{document.pk}/sign/",
        {"password": PASSWORD, "signer": risk_officer.pk},
        format="json",
    )
    assert response.status_code == 400
    assert not DocumentSignature.objects.exists()


def test_a_signed_report_is_in_the_evidence_pack_and_verifies_offline(
    world, risk_officer, auditor, settings, tmp_path, monkeypatch
):
    import json

    from core import evidence_verifier
    from tests.documents import packs

    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "report-signature-test-key"
    monkeypatch.setattr(rendering, "chromium", lambda: None)  # Word only: quicker
    version, validator = world
    document = report_of(version, risk_officer)
    signature = signing.document_sign(document=document, by=validator, password=PASSWORD)
    generation.document_render(document_id=document.pk)

    pack = packs.build(auditor, scope="version", model_version=version)
    folder = packs.unpack(pack, tmp_path / "pack")
    code, out = packs.check(folder)
    assert code == evidence_verifier.INTACT, out
    listed = json.loads((folder / "signatures.json").read_text())
    mine = [s for s in listed if s.get("record") == "documents.documentsignature"]
    assert [s["manifest_hash"] for s in mine] == [signature.manifest_hash]
    assert (folder / "records/documents.generateddocument.json").exists()

    # A forger who edits what the report's signature bound is caught.
    mine[0]["manifest"]["content_sha256"] = "0" * 64
    (folder / "signatures.json").write_text(json.dumps(listed))
    code, out = packs.check(folder)
    assert code == evidence_verifier.FAILED
    assert f"signature #{signature.pk}" in out


def test_a_validation_report_of_the_use_case_as_a_whole_is_signed_too(world, risk_officer):
    version, validator = world
    document, _ = generation.use_case_document_request(
        user=risk_officer, use_case=version.model.use_case, kind="validation_report"
    )
    generation.document_render(document_id=document.pk)
    signature = signing.document_sign(document=document, by=validator, password=PASSWORD)
    assert signature.manifest["use_case"] == version.model.use_case_id
    assert signature.manifest["content_sha256"] == document.content_sha256


def test_the_signing_page_of_a_document_that_is_not_a_report_refuses_without_an_error(
    world, risk_officer, client_for
):
    document, _ = generation.portfolio_report_request(user=risk_officer)
    client = client_for(risk_officer)
    url = reverse("documents:document-sign", args=[document.pk])
    assert client.get(url).status_code == 403
    refused = client.post(url, {"password": PASSWORD})
    assert refused.status_code == 403 and b"Only a model validation report" in refused.content
    assert not DocumentSignature.objects.exists()
