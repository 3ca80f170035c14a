from django.urls import path

from reviews.views import bias as bias_views
from reviews.views import experiments as experiment_views
from reviews.views import monitoring as monitoring_views
from reviews.views import promotion as views

app_name = "reviews"

urlpatterns = [
    path("", views.pending_view, name="pending"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/sign/", views.request_sign_view, name="request-sign"),
    path("requests/<int:pk>/revoke/", views.request_revoke_view, name="request-revoke"),
    path("requests/<int:pk>/waive/", views.request_waive_view, name="request-waive"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw_view, name="request-withdraw"),
    path("versions/<int:pk>/", views.version_view, name="version"),
    path("versions/<int:pk>/request/", views.request_create_view, name="request-create"),
    path("versions/<int:pk>/findings/", views.finding_create_view, name="finding-create"),
    path(
        "versions/<int:pk>/periodic-review/",
        views.periodic_review_sign_view,
        name="periodic-review-sign",
    ),
    path("findings/<int:pk>/resolve/", views.finding_resolve_view, name="finding-resolve"),
    path("periodic-reviews/", views.periodic_reviews_view, name="periodic-reviews"),
    path("gate/", views.gate_log_view, name="gate-log"),
    # Bias summaries (issue #5)
    path("versions/<int:pk>/bias/", bias_views.bias_version_view, name="bias-version"),
    path("versions/<int:pk>/bias/upload/", bias_views.dataset_upload_view, name="bias-upload"),
    path(
        "bias/datasets/<int:pk>/summaries/",
        bias_views.summary_request_view,
        name="bias-summary-request",
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
    # Monitoring (issue #6)
    path("versions/<int:pk>/monitoring/", monitoring_views.monitoring_view, name="monitoring"),
    path(
        "versions/<int:pk>/monitoring/configure/",
        monitoring_views.monitoring_configure_view,
        name="monitoring-configure",
    ),
    path(
        "versions/<int:pk>/monitoring/batches/",
        monitoring_views.monitoring_batch_view,
        name="monitoring-batch",
    ),
    path(
        "versions/<int:pk>/monitoring/recompute/",
        monitoring_views.monitoring_recompute_view,
        name="monitoring-recompute",
    ),
    path(
        "monitoring/alerts/<int:pk>/acknowledge/",
        monitoring_views.alert_acknowledge_view,
        name="monitoring-alert-acknowledge",
    ),
    path(
        "monitoring/alerts/<int:pk>/resolve/",
        monitoring_views.alert_resolve_view,
        name="monitoring-alert-resolve",
    ),
    # Pre-registered experiments (issue #7)
    path("experiments/", experiment_views.experiment_list_view, name="experiment-list"),
    path(
        "use-cases/<int:pk>/experiments/new/",
        experiment_views.experiment_create_view,
        name="experiment-create",
    ),
    path(
        "experiments/<int:pk>/", experiment_views.experiment_detail_view, name="experiment-detail"
    ),
    path(
        "experiments/<int:pk>/edit/", experiment_views.experiment_edit_view, name="experiment-edit"
    ),
    path(
        "experiments/<int:pk>/start/",
        experiment_views.experiment_start_view,
        name="experiment-start",
    ),
    path(
        "experiments/<int:pk>/abandon/",
        experiment_views.experiment_abandon_view,
        name="experiment-abandon",
    ),
    path(
        "experiments/<int:pk>/outcomes/",
        experiment_views.experiment_upload_view,
        name="experiment-upload",
    ),
    path(
        "experiments/<int:pk>/sign-result/",
        experiment_views.experiment_sign_result_view,
        name="experiment-sign-result",
    ),
    path(
        "experiments/<int:pk>/evidence/",
        experiment_views.experiment_evidence_view,
        name="experiment-evidence",
    ),
]
