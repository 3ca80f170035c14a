"""Scored datasets and bias summaries in the admin: read-only (written by uploads and workers)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from fairness.models import BiasSummary, ScoredDataset


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
