"""Experiments in the admin: read-only (protocols are signed and locked on the pages)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from experiments import models


@admin.register(models.Experiment)
class ExperimentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "name", "use_case", "design", "status"]
    list_filter = ["status", "design"]
    # The stored result keeps the test of a result that failed its data quality, for a
    # lead's override; the admin must not show it before (issue 14): the pages do,
    # through selectors.visible_result.
    exclude = ["result"]
