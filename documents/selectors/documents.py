"""Reads of governance documents: one document, a version's documents, and what the
version page shows of them."""

from __future__ import annotations

from django.db.models import QuerySet

from documents.models import GeneratedDocument
from inventory.models import ModelVersion


def version_for_documents(*, pk: int) -> ModelVersion:
    return ModelVersion.objects.select_related("model__use_case").get(pk=pk)


def use_case_for_documents(*, pk: int):
    """A use case whose documents are shown (every role reads the whole inventory)."""
    from inventory.models import UseCase

    return UseCase.objects.get(pk=pk)


def document_get(*, pk: int) -> GeneratedDocument:
    return GeneratedDocument.objects.select_related(
        "model_version__model__use_case", "use_case", "requested_by", "signature"
    ).get(pk=pk)


def version_documents(version: ModelVersion) -> QuerySet[GeneratedDocument]:
    """The version's documents, newest first (a document per kind and content)."""
    return (
        GeneratedDocument.objects.filter(model_version=version, use_case=None)
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
    if version is None:  # the portfolio report: no obligation of its own
        return Obligation.objects.none()
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


FORMATS = ("pdf", "docx", "signed-pdf", "signed-docx")


def document_file(document: GeneratedDocument, fmt: str):
    """(the stored file, its recorded SHA-256) of a document in ``fmt`` (one of
    ``FORMATS``: the signed ones are printed again with the report's signature); the
    file is empty when there is none."""
    field = fmt.replace("-", "_")
    return getattr(document, field), getattr(document, f"{field}_sha256")


def document_download(document: GeneratedDocument, fmt: str) -> dict | None:
    """The arguments of ``audit.downloads`` serving a document in ``fmt`` (page and API
    alike); None while it is not rendered or has no such file."""
    file, sha256 = document_file(document, fmt)
    if document.status != GeneratedDocument.Status.DONE or not file:
        return None
    return {
        "file": file,
        "sha256": sha256,
        "filename": f"{document.file_stem}"
        f"{'-signed' if fmt.startswith('signed') else ''}.{fmt.removeprefix('signed-')}",
        "obj": document,
        "what": f"{document.get_kind_display()} #{document.pk}",
    }


def use_case_documents(use_case) -> QuerySet[GeneratedDocument]:
    """The documents of a use case as a whole, newest first."""
    return (
        GeneratedDocument.objects.filter(use_case=use_case)
        .select_related("requested_by", "model_version")
        .defer("content")
        .order_by("-requested_at", "-id")
    )


def portfolio_reports() -> QuerySet[GeneratedDocument]:
    """The portfolio reports, newest first."""
    return (
        GeneratedDocument.objects.filter(kind=GeneratedDocument.Kind.PORTFOLIO_REPORT)
        .select_related("requested_by")
        .defer("content")
        .order_by("-requested_at", "-id")
    )
