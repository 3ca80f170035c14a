"""Pages of bias summaries (mounted under /reviews/, where they have always been)."""

from django.urls import path

from fairness import downloads
from fairness import views as bias_views

app_name = "fairness"

urlpatterns = [
    path("versions/<int:pk>/bias/", bias_views.bias_version_view, name="bias-version"),
    path("versions/<int:pk>/bias/upload/", bias_views.dataset_upload_view, name="bias-upload"),
    path("versions/<int:pk>/bias/query/", bias_views.dataset_query_view, name="bias-query"),
    path(
        "bias/datasets/<int:pk>/summaries/",
        bias_views.summary_request_view,
        name="bias-summary-request",
    ),
    path(
        "bias/datasets/<int:pk>/status/",
        bias_views.dataset_status_view,
        name="scored-dataset-status",
    ),
    path(
        "bias/datasets/<int:pk>/download/",
        downloads.scored_dataset_download_view,
        name="scored-dataset-download",
    ),
    path("bias/summaries/<int:pk>/", bias_views.summary_view, name="bias-summary"),
    path(
        "bias/summaries/<int:pk>/status/",
        bias_views.summary_status_view,
        name="bias-summary-status",
    ),
    path("bias/summaries/<int:pk>/csv/", bias_views.summary_csv_view, name="bias-summary-csv"),
    path(
        "bias/summaries/<int:pk>/evidence/",
        bias_views.summary_evidence_view,
        name="bias-summary-evidence",
    ),
]
