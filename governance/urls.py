"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("governance.page_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("audit/", include("audit.urls")),
    path("inventory/", include("inventory.urls")),
    path("reviews/", include("reviews.urls")),
    path("reviews/", include("fairness.urls")),
    path("reviews/", include("monitoring.urls")),
    path("reviews/", include("experiments.urls")),
    path("api/", include("governance.api_urls")),
    path("admin/", admin.site.urls),
]
