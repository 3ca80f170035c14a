from django.urls import path

from reviews.views import findings as findings_views
from reviews.views import promotion as views
from reviews.views import validation as validation_views

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
    path("findings/", findings_views.finding_list_view, name="findings"),
    path("findings/export.csv", findings_views.finding_export_csv, name="findings-csv"),
    path("findings/<int:pk>/", findings_views.finding_detail_view, name="finding-detail"),
    path("findings/<int:pk>/plan/", findings_views.finding_plan_view, name="finding-plan"),
    path(
        "findings/<int:pk>/actions/<int:action_pk>/done/",
        findings_views.finding_action_done_view,
        name="finding-action-done",
    ),
    path(
        "findings/<int:pk>/remediated/",
        findings_views.finding_remediate_view,
        name="finding-remediate",
    ),
    path("findings/<int:pk>/verify/", findings_views.finding_verify_view, name="finding-verify"),
    path("findings/<int:pk>/close/", findings_views.finding_close_view, name="finding-close"),
    path(
        "findings/<int:pk>/severity/",
        findings_views.finding_severity_view,
        name="finding-severity",
    ),
    path("findings/<int:pk>/owner/", findings_views.finding_owner_view, name="finding-owner"),
    path(
        "versions/<int:pk>/validations/",
        validation_views.validation_list_view,
        name="validations",
    ),
    path(
        "validations/<int:pk>/", validation_views.validation_detail_view, name="validation-detail"
    ),
    path(
        "validations/<int:pk>/sign/", validation_views.validation_sign_view, name="validation-sign"
    ),
    path(
        "findings/<int:pk>/accept-risk/",
        validation_views.finding_accept_view,
        name="finding-accept",
    ),
    path("periodic-reviews/", views.periodic_reviews_view, name="periodic-reviews"),
    path("gate/", views.gate_log_view, name="gate-log"),
    path("gate/governance_gate.py", views.gate_client_download, name="gate-client"),
]
