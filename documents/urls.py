"""Pages of evidence packs."""

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("evidence-packs/", views.pack_list_view, name="packs"),
    path("evidence-packs/new/", views.pack_request_view, name="pack-request"),
    path("evidence-packs/<int:pk>/", views.pack_view, name="pack"),
    path("evidence-packs/<int:pk>/status/", views.pack_status_view, name="pack-status"),
    path("evidence-packs/<int:pk>/download/", views.pack_download_view, name="pack-download"),
]
