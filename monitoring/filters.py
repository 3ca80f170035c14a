"""Filters of the monitoring lists (API): configurations, windows and alerts. Ids go
through ``accounts.filters.IdFilter``."""

import django_filters

from accounts.filters import IdFilter
from monitoring.models import DriftAlert, MonitoringConfig, MonitoringWindow


class MonitoringConfigFilterSet(django_filters.FilterSet):
    model_version = IdFilter(field_name="model_version_id", label="Only this version's")

    class Meta:
        model = MonitoringConfig
        fields = ["model_version"]


class MonitoringWindowFilterSet(django_filters.FilterSet):
    config = IdFilter(field_name="config_id", label="Only this configuration's windows")
    model_version = IdFilter(
        field_name="config__model_version_id", label="Only this version's windows"
    )

    class Meta:
        model = MonitoringWindow
        fields = ["config", "model_version"]


class DriftAlertFilterSet(django_filters.FilterSet):
    config = IdFilter(field_name="config_id", label="Only this configuration's alerts")
    status = django_filters.ChoiceFilter(choices=DriftAlert.Status.choices)

    class Meta:
        model = DriftAlert
        fields = ["config", "status"]
