"""Pages of evidence packs and generated documents."""

from django.urls import path

from documents.views import generated, packs

app_name = "documents"

urlpatterns = [
    path("evidence-packs/", packs.pack_list_view, name="packs"),
    path("evidence-packs/new/", packs.pack_request_view, name="pack-request"),
    path("evidence-packs/<int:pk>/", packs.pack_view, name="pack"),
    path("evidence-packs/<int:pk>/status/", packs.pack_status_view, name="pack-status"),
    path("evidence-packs/<int:pk>/download/", packs.pack_download_view, name="pack-download"),
    path(
        "versions/<int:pk>/documents/",
        generated.version_documents_view,
        name="version-documents",
    ),
    path(
        "versions/<int:pk>/documents/new/",
        generated.document_request_view,
        name="document-request",
    ),
    path(
        "use-cases/<int:pk>/documents/",
        generated.use_case_documents_view,
        name="use-case-documents",
    ),
    path(
        "use-cases/<int:pk>/documents/new/",
        generated.use_case_document_request_view,
        name="use-case-document-request",
    ),
    path("portfolio-reports/", generated.portfolio_reports_view, name="portfolio-reports"),
    path(
        "portfolio-reports/new/",
        generated.portfolio_report_request_view,
        name="portfolio-report-request",
    ),
    path("documents/<int:pk>/", generated.document_view, name="document"),
    path("documents/<int:pk>/status/", generated.document_status_view, name="document-status"),
    path("documents/<int:pk>/file/", generated.document_file_view, name="document-file"),
    path("documents/<int:pk>/sign/", generated.document_sign_view, name="document-sign"),
    path(
        "documents/<int:pk>/<str:fmt>/",
        generated.document_download_view,
        name="document-download",
    ),
]
