"""Pages of the MLflow registry sync and the webhook MLflow posts to."""

from django.urls import path

from mlflow_sync import views

app_name = "mlflow_sync"

urlpatterns = [
    path("", views.registry_view, name="registry"),
    path("sync/", views.sync_view, name="sync"),
    path("conflicts/<int:pk>/resolve/", views.conflict_resolve_view, name="conflict-resolve"),
    path("webhook/", views.webhook_view, name="webhook"),
]
