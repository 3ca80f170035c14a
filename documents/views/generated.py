"""Pages of governance documents: ask for one from a version's page, follow its
progress, download it as PDF or Word (re-hashed against its recorded SHA-256 as it is
served, and audited). Everyone with a role reads them; the service decides who asks."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import user_roles
from accounts.web import (
    PasswordSignForm,
    get_or_404,
    int_or_none,
    refused,
    role_required,
    signing_dialog,
)
from audit.downloads import download_page
from core.promotion_rules import manifest_hash
from documents.models import GeneratedDocument
from documents.rendering import pdf_unavailable_reason
from documents.selectors.documents import (
    FORMATS,
    document_download,
    document_get,
    document_obligations,
    portfolio_reports,
    use_case_documents,
    use_case_for_documents,
    version_documents,
    version_for_documents,
)
from documents.services import generation as svc
from documents.services import signing


def _document_page(request, document, *, status=200, refusal=None) -> HttpResponse:
    may_sign = (
        document.kind == GeneratedDocument.Kind.VALIDATION_REPORT
        and document.status == GeneratedDocument.Status.DONE
        and signing.document_sign_refusal(document=document, by=request.user) is None
    )
    return render(
        request,
        "documents/document.html",
        {
            "document": document,
            "obligations": document_obligations(document),
            "signature": getattr(document, "signature", None),
            "may_sign": may_sign,
            "refusal": refusal,
        },
        status=status,
    )


SUBJECT_KINDS = GeneratedDocument.subject_kind_choices()


def _version_page(request, version, *, refusal=None) -> HttpResponse:
    return render(
        request,
        "documents/version_documents.html",
        {
            "version": version,
            "documents": version_documents(version),
            "kinds": SUBJECT_KINDS,
            "request_url": reverse("documents:document-request", args=[version.pk]),
            "can_generate": svc.can_generate_documents(request.user),
            "pdf_unavailable": pdf_unavailable_reason(),
            "refusal": refusal,
        },
    )


def _use_case_page(request, use_case, *, refusal=None) -> HttpResponse:
    try:
        by_version = svc.use_case_version(use_case)
    except ValidationError:
        by_version = None
    return render(
        request,
        "documents/use_case_documents.html",
        {
            "use_case": use_case,
            "by_version": by_version,
            "documents": use_case_documents(use_case),
            "kinds": SUBJECT_KINDS,
            "request_url": reverse("documents:use-case-document-request", args=[use_case.pk]),
            "can_generate": svc.can_generate_documents(request.user),
            "pdf_unavailable": pdf_unavailable_reason(),
            "refusal": refusal,
        },
    )


def _portfolio_page(request, *, refusal=None) -> HttpResponse:
    return render(
        request,
        "documents/portfolio_reports.html",
        {
            "documents": portfolio_reports()[:60],
            "can_make": bool(user_roles(request.user) & svc.PORTFOLIO_ROLES),
            "refusal": refusal,
        },
    )


@role_required
def use_case_documents_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A use case's own documents and the buttons that ask for them."""
    return _use_case_page(request, get_or_404(use_case_for_documents, pk=pk))


@role_required
@require_POST
def use_case_document_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_for_documents, pk=pk)
    try:
        document, _queued = svc.use_case_document_request(
            user=request.user, use_case=use_case, kind=request.POST.get("kind", "")
        )
    except (PermissionDenied, ValidationError) as exc:
        return refused(request, partial(_use_case_page, request, use_case), exc)
    return redirect("documents:document", pk=document.pk)


@role_required
def portfolio_reports_view(request: HttpRequest) -> HttpResponse:
    return _portfolio_page(request)


@role_required
@require_POST
def portfolio_report_request_view(request: HttpRequest) -> HttpResponse:
    """Make today's portfolio report (risk officers and leads); a refusal is a 403 on the
    list, nothing written."""
    try:
        document, _queued = svc.portfolio_report_request(
            user=request.user, mail=request.POST.get("mail") == "1"
        )
    except (PermissionDenied, ValidationError) as exc:
        return refused(request, partial(_portfolio_page, request), exc)
    return redirect("documents:document", pk=document.pk)


@role_required
def version_documents_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's documents and the buttons that ask for them."""
    return _version_page(request, get_or_404(version_for_documents, pk=pk))


@role_required
@require_POST
def document_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for a document of a version; the same records give the same document back.
    A refusal is answered on the version's documents page (403 / 400), nothing written."""
    version = get_or_404(version_for_documents, pk=pk)
    try:
        document, _queued = svc.document_request(
            user=request.user, version=version, kind=request.POST.get("kind", "")
        )
    except (PermissionDenied, ValidationError) as exc:
        return refused(request, partial(_version_page, request, version), exc)
    return redirect("documents:document", pk=document.pk)


@role_required
def document_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _document_page(request, get_or_404(document_get, pk=pk))


@role_required
def document_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    document = get_or_404(document_get, pk=pk)
    working = document.is_active or (document.signed_files_pending and not document.error)
    return JsonResponse(
        {
            "status": document.status,
            "status_display": document.get_status_display(),
            "percent": document.percent if working else 100,
            "label": f"{document.stage or document.get_status_display()} ({document.percent}%)",
            "finished": not working,
        }
    )


@role_required
def document_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing dialog of a validation report: what is signed (its hashes), the
    password typed again. Who may not sign is told before any password is typed (403,
    the posted attempt recorded); a wrong password is a 400 on the form."""
    document = get_or_404(document_get, pk=pk)
    why = signing.document_sign_refusal(document=document, by=request.user)
    done, form, status, refusal = signing_dialog(
        request,
        PasswordSignForm(request.POST or None),
        why,
        refused=lambda: signing.document_signing_refused(
            document=document, by=request.user, why=why
        ),
        sign=lambda data: signing.document_sign(
            document=document, by=request.user, password=data["password"]
        ),
    )
    if done:
        messages.success(request, "Report signed: validated. The signed PDF is printing.")
        return redirect("documents:document", pk=document.pk)
    validation = signing.report_validation(document)
    manifest = signing.document_manifest(document, validation) if validation else None
    return render(
        request,
        "documents/document_sign.html",
        {
            "document": document,
            "form": form,
            "refusal": refusal,
            "manifest": manifest,
            "manifest_hash": manifest_hash(manifest) if manifest else "",
        },
        status=status,
    )


@role_required
def document_download_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    document = get_or_404(document_get, pk=pk)
    if fmt not in FORMATS:
        raise Http404("No such format.")
    download = document_download(document, fmt)
    if download is None:
        return _document_page(request, document, status=409)
    response = download_page(request, **download)
    if response.status_code == 200:
        svc.document_downloaded(document=document, user=request.user, fmt=fmt)
    return response


@role_required
@require_POST
def document_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    """File the document as an obligation's evidence; refused on the document's page."""
    document = get_or_404(document_get, pk=pk)
    page = partial(_document_page, request, document)
    obligation = (
        document_obligations(document)
        .filter(pk=int_or_none(request.POST.get("obligation")))
        .first()
    )
    if obligation is None:
        return refused(request, page, "Choose one of the obligations listed.", status=400)
    fmt = request.POST.get("format", "pdf")
    if fmt not in FORMATS:
        return refused(request, page, "Choose PDF or Word.", status=400)
    try:
        svc.document_file_as_evidence(
            document=document, obligation=obligation, by=request.user, fmt=fmt
        )
    except (PermissionDenied, ValidationError) as exc:
        return refused(request, page, exc)
    messages.success(request, f"Filed as the evidence of: {obligation}.")
    return redirect("documents:document", pk=document.pk)
