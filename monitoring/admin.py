"""Monitoring configurations and drift alerts in the admin: read-only."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from monitoring import models


@admin.register(models.MonitoringConfig)
class MonitoringConfigAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "model_version"]


@admin.register(models.DriftAlert)
class DriftAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "config", "feature", "kind", "status"]
    list_filter = ["status", "kind"]
