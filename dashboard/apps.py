from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The top of the app graph: the root URL configuration, the API router and the
    pages that compose several apps (home, the use case page). No models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"
    verbose_name = "Dashboard"
