from django.urls import path

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
    path("findings/<int:pk>/resolve/", views.finding_resolve_view, name="finding-resolve"),
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
