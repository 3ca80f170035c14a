"""The MLflow sync's records in the admin, read-only: the sync writes them."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from mlflow_sync.models import RegistryVersionLink, SyncRun, UseCaseConflict, WebhookDelivery


@admin.register(RegistryVersionLink)
class RegistryVersionLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("registered_model", "mlflow_version", "version", "run_id", "synced_at")
    search_fields = ("registered_model", "run_id", "artifact_digest")
    list_select_related = ("version__model",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "trigger", "status", "imported", "updated", "unchanged")
    list_filter = ("trigger", "status")
    search_fields = ("registered_model", "message")
    list_select_related = ("started_by",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "event", "registered_model", "delivery_id")
    list_filter = ("event",)
    search_fields = ("delivery_id", "registered_model")
    list_select_related = ()


@admin.register(UseCaseConflict)
class UseCaseConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("registered_model", "current", "named", "opened_at", "resolution")
    list_filter = ("resolution",)
    search_fields = ("registered_model", "named_ref")
    list_select_related = ("current", "named")
