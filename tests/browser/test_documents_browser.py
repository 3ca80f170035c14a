"""A risk officer generates a model card from a version's page and downloads its PDF
in headless Chromium (issue 15, "Done when"): the progress bar follows the worker (here:
the service, run from the test), the page offers the PDF when it is done, and the file
downloaded is the one recorded (its SHA-256) with the version's artifact SHA-256 in its
text. No request leaves the live server, no CSP violation."""

import hashlib

import pytest
from pypdf import PdfReader

from documents.models import GeneratedDocument
from documents.services import generation
from tests.browser.conftest import csp_violations
from tests.factories import ModelVersionFactory
from tests.reviews.signoff_world import PASSWORD, with_password

pytestmark = pytest.mark.browser


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_risk_officer_downloads_a_document_from_the_version_page(
    page, live_server, media, team, risk_officer, tmp_path
):
    version = ModelVersionFactory(model__use_case__team=team)
    with_password(risk_officer)
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", risk_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/reviews/versions/{version.pk}/")
    page.click("#documents-card button[data-generate=model_card]")
    document = GeneratedDocument.objects.get()
    page.wait_for_url(f"{base}/documents/documents/{document.pk}/")
    assert page.locator("progress#document-progress").count() == 1

    generation.document_render(document_id=document.pk)  # the worker's part
    page.wait_for_selector("#download-pdf", timeout=30_000)  # progress.js reloads when done
    document.refresh_from_db()
    assert page.locator("#content-sha256").inner_text() == document.content_sha256
    with page.expect_download() as info:
        page.click("#download-pdf")
    saved = tmp_path / "model-card.pdf"
    info.value.save_as(saved)

    data = saved.read_bytes()
    assert hashlib.sha256(data).hexdigest() == document.pdf_sha256
    text = "".join(p.extract_text() for p in PdfReader(saved).pages).replace("\n", "")
    assert version.artifact_sha256 in text
    page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
    assert csp_violations(page) == []
    assert page.problems == []
    assert page.blocked == [], "pages must not load anything from another origin"
