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
