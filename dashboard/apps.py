from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The top of the app graph: the root URL configuration, the API router and the
    pages that compose several apps (home, the use case page). No models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        from audit.stored_files import register_stored_files
        from core.charts import warm_up
        from dashboard.health import PROBE_PREFIX

        warm_up()  # before any request thread: see warm_up's docstring
        # /readyz's scratch files: one a process killed mid-probe left is an orphan.
        register_stored_files(PROBE_PREFIX)
