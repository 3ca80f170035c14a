"""Experiments in the admin: read-only (protocols are signed and locked on the pages)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from experiments import models


@admin.register(models.Experiment)
class ExperimentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "name", "use_case", "design", "status"]
    list_filter = ["status", "design"]
