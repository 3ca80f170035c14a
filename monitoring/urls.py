"""Pages of monitoring (mounted under /reviews/, where they have always been)."""

from django.urls import path

from monitoring import views as monitoring_views

app_name = "monitoring"

urlpatterns = [
    path("versions/<int:pk>/monitoring/", monitoring_views.monitoring_view, name="monitoring"),
    path(
        "versions/<int:pk>/monitoring/profile-status/",
        monitoring_views.monitoring_profile_status_view,
        name="monitoring-profile-status",
    ),
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
]
