"""Reads of governance documents: one document, a version's documents, and what the
version page shows of them."""

from __future__ import annotations

from django.db.models import QuerySet

from documents.models import GeneratedDocument
from inventory.models import ModelVersion


def version_for_documents(*, pk: int) -> ModelVersion:
    return ModelVersion.objects.select_related("model__use_case").get(pk=pk)


def document_get(*, pk: int) -> GeneratedDocument:
    return GeneratedDocument.objects.select_related(
        "model_version__model__use_case", "requested_by"
    ).get(pk=pk)


def version_documents(version: ModelVersion) -> QuerySet[GeneratedDocument]:
    """The version's documents, newest first (a document per kind and content)."""
    return (
        GeneratedDocument.objects.filter(model_version=version)
        .select_related("requested_by")
        .defer("content")
        .order_by("-requested_at", "-id")
    )


def document_obligations(document: GeneratedDocument):
    """The obligations a document may be filed against: active, not yet accepted or
    waived, of its version or of its use case."""
    from django.db.models import Q

    from governance.models import Obligation

    version = document.model_version
    return (
        Obligation.objects.filter(
            use_case_id=version.model.use_case_id,
            active=True,
            status__in=[Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED],
        )
        .filter(Q(model_version=version) | Q(model_version=None))
        .select_related("consideration")
        .order_by("consideration__order", "pk")
    )
