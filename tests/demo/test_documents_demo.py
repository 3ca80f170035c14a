"""Issue 15, "Done when": for every demo version in production, the three documents
generate in PDF and Word; the PDF's text holds the version's artifact SHA-256, and the
validation report of a validated version the validator's signature manifestation
(printed name, UTC time, meaning and the signature's hash)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from docx import Document
from pypdf import PdfReader

from accounts.roles import Role
from documents import rendering
from documents.models import GeneratedDocument
from documents.services import generation
from inventory.choices import Environment
from inventory.models import ModelVersion
from reviews.models import Signature

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("demo_output"),
    pytest.mark.skipif(rendering.chromium() is None, reason="Chromium is not installed"),
]


def _text(document) -> tuple[str, str]:
    with document.pdf.open("rb") as handle:
        pdf = "".join(p.extract_text() for p in PdfReader(handle).pages)
    with document.docx.open("rb") as handle:
        word = Document(io.BytesIO(handle.read()))
    docx = "\n".join(
        [p.text for p in word.paragraphs]
        + [c.text for t in word.tables for r in t.rows for c in r.cells]
    )
    return pdf.replace("\n", ""), docx


def test_every_production_version_gets_its_three_documents(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    risk_officer = User.objects.filter(groups__name=Role.RISK_OFFICER).order_by("pk").first()
    versions = list(ModelVersion.objects.filter(environment=Environment.PROD).order_by("pk"))
    assert len(versions) >= 5
    validated = 0
    for version in versions:
        for kind in GeneratedDocument.SUBJECT_KINDS:
            document, _ = generation.document_request(user=risk_officer, version=version, kind=kind)
            generation.document_render(document_id=document.pk)
            document.refresh_from_db()
            assert document.status == "done" and document.pdf and document.docx, document.error
            pdf, docx = _text(document)
            assert version.artifact_sha256 in pdf, (version, kind)
            assert version.artifact_sha256 in docx, (version, kind)
            signature = (
                Signature.objects.filter(validation__model_version=version, meaning="validated")
                .order_by("-signed_at")
                .first()
            )
            if kind == "validation_report" and signature is not None:
                validated += 1
                assert signature.printed_name in pdf
                assert "Validated" in pdf
                assert signature.manifest_hash in pdf
                assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in pdf
    assert validated >= 1
