"""The project API router: every app's API under /api/v1/, plus schema and docs.

The schema needs a governance role (like every endpoint); the documentation pages
send anonymous visitors to the login page. Swagger UI is the split variant, which
serves its start-up script from a URL rather than inline, so the strict CSP
(``script-src 'self'``) stays strict.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.permissions import HasGovernanceRole

# Redoc renders with styled-components, which injects <style> elements, and builds
# its search worker from a blob: URL. Scripts stay 'self' only.
REDOC_CSP = {
    **settings.SECURE_CSP,
    "style-src": [*settings.SECURE_CSP.get("style-src", []), "'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
}

urlpatterns = [
    path("v1/", include("inventory.api.urls")),
    path("v1/", include("governance.api.urls")),
    path("v1/", include("audit.api.urls")),  # the audit trail, read-only
    path("v1/", include("reviews.api.urls")),
    path("v1/", include("fairness.api.urls")),
    path("v1/", include("monitoring.api.urls")),
    path("v1/", include("experiments.api.urls")),
    path("v1/", include("documents.api.urls")),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[HasGovernanceRole]),
        name="api-schema",
    ),
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "redoc/",
        csp_override(REDOC_CSP)(
            login_required(SpectacularRedocView.as_view(url_name="api-schema"))
        ),
        name="api-redoc",
    ),
]
