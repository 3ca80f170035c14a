"""Scored datasets and bias summaries in the admin: read-only (written by uploads and
workers). Warehouse connections (issue 17) are registered and changed here by
governance leads, through the same services as the API."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin, RefusedFormIs400, ServiceModelAdmin
from fairness.models import BiasSummary, ScoredDataset, WarehouseConnection


@admin.register(ScoredDataset)
class ScoredDatasetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "model_version", "purpose", "format", "rows", "uploaded_at"]
    list_filter = ["purpose", "format"]
    exclude = ["columns", "mapping"]


@admin.register(BiasSummary)
class BiasSummaryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "dataset", "status", "rows_done", "rows_total", "finished_at"]
    list_filter = ["status"]
    exclude = ["result", "counts"]


@admin.register(WarehouseConnection)
class WarehouseConnectionAdmin(RefusedFormIs400, ServiceModelAdmin):
    list_display = ["name", "engine", "dialect", "secret_env", "active", "created_at"]
    list_filter = ["engine", "active"]
    search_fields = ["name", "description"]
    list_select_related = ["created_by"]
    fields = ["name", "engine", "dialect", "secret_env", "description", "active"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "engine"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # summaries name their connection: switch it off instead

    def service_save(self, request, form, formsets, change: bool):
        from fairness import services as svc

        data = form.cleaned_data
        if change:
            changes = {k: data[k] for k in ("dialect", "secret_env", "description", "active")}
            return svc.warehouse_connection_update(
                connection=form.instance, by=request.user, changes=changes
            )
        return svc.warehouse_connection_register(
            by=request.user,
            name=data["name"],
            engine=data["engine"],
            secret_env=data["secret_env"],
            dialect=data.get("dialect", ""),
            description=data.get("description", ""),
        )
