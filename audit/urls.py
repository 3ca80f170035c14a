"""Pages of the audit trail: the filtered list and its CSV / JSON exports."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("export.csv", views.audit_export_csv, name="export-csv"),
    path("export.json", views.audit_export_json, name="export-json"),
]
