from django.urls import path

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
]
