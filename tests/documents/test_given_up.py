"""A pack or a document whose job the outbox gives up (every run died or failed) says
so, with why, instead of "running" for ever (issue 15); asking again makes a new one,
and a signed report's files are printed again when the report is asked for again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents import rendering, services
from documents.models import EvidencePack, GeneratedDocument
from documents.services import generation, signing
from notifications.jobs import jobs_sweep_run
from notifications.models import JobMarker
from tests.factories import PASSWORD, ModelVersionFactory, signed_validation, validator_user

pytestmark = pytest.mark.django_db


def _exhaust(task: str, settings) -> None:
    """Every run of ``task``'s job died: the row has had its runs."""
    JobMarker.objects.filter(task=task).update(
        runs=settings.JOBS_MAX_RUNS, error="WorkerLostError: the worker was killed"
    )


def test_a_pack_given_up_is_failed_with_why_and_a_new_one_can_be_asked(
    media, settings, auditor, client_for
):
    version = ModelVersionFactory()
    pack = services.evidence_pack_request(user=auditor, scope="version", model_version=version)
    _exhaust("documents.tasks.evidence_pack_build", settings)

    assert jobs_sweep_run()["gave_up"] == 1

    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    assert "gave up after" in pack.error and "WorkerLostError" in pack.error
    page = client_for(auditor).get(reverse("documents:pack", args=[pack.pk]))
    assert b"gave up after" in page.content and b"data-status-url" not in page.content
    again = services.evidence_pack_request(user=auditor, scope="version", model_version=version)
    assert again.pk != pack.pk and again.status == EvidencePack.Status.QUEUED


def test_a_document_given_up_is_failed_and_asking_again_queues_it(media, settings, risk_officer):
    version = ModelVersionFactory()
    document, _ = generation.document_request(user=risk_officer, version=version, kind="model_card")
    _exhaust("documents.tasks.document_render", settings)

    jobs_sweep_run()

    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.FAILED and "gave up" in document.error
    again, queued = generation.document_request(
        user=risk_officer, version=version, kind="model_card"
    )
    assert queued and again.pk == document.pk and again.status == GeneratedDocument.Status.QUEUED


def test_signed_files_given_up_are_said_and_printed_again_when_asked(
    media, settings, team, risk_officer, client_for, monkeypatch
):
    monkeypatch.setattr(rendering, "chromium", lambda: None)
    version = ModelVersionFactory(model__use_case__team=team)
    validator = validator_user("gives-up")
    signed_validation(version, by=validator)
    document, _ = generation.document_request(
        user=risk_officer, version=version, kind="validation_report"
    )
    generation.document_render(document_id=document.pk)
    signing.document_sign(document=document, by=validator, password=PASSWORD)
    _exhaust("documents.tasks.document_render", settings)

    jobs_sweep_run()

    document.refresh_from_db()
    assert document.status == GeneratedDocument.Status.DONE and document.signed_files_pending
    page = client_for(risk_officer).get(reverse("documents:document", args=[document.pk]))
    assert b"signed files could not be printed" in page.content
    status = client_for(risk_officer).get(reverse("documents:document-status", args=[document.pk]))
    assert status.json()["finished"]

    generation.document_request(user=risk_officer, version=version, kind="validation_report")
    assert JobMarker.objects.get(task="documents.tasks.document_render").failed_at is None
    generation.document_render(document_id=document.pk)
    document.refresh_from_db()
    assert document.signed_docx and not document.error
