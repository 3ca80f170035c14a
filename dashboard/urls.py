"""Root URL configuration: every app's pages and API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.page_urls")),
    path("", include("governance.page_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("accounts.sso.urls")),
    path("audit/", include("audit.urls")),
    path("inventory/", include("inventory.urls")),
    path("reviews/", include("reviews.urls")),
    path("reviews/", include("fairness.urls")),
    path("reviews/", include("monitoring.urls")),
    path("reviews/", include("experiments.urls")),
    path("documents/", include("documents.urls")),
    path("", include("engagement.urls")),
    path("kpis/", include("oversight.urls")),
    path("mlflow/", include("mlflow_sync.urls")),
    path("api/", include("dashboard.api_urls")),
    path("admin/", admin.site.urls),
]

# A database that cannot answer (PostgreSQL restarting, a locked SQLite file) is a 503.
handler500 = "dashboard.unavailable.server_error"
handler404 = "accounts.api.not_found"
