"""Inventory pages, mounted at /inventory/."""

from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.use_case_list_view, name="use-case-list"),
    path("use-cases/new/", views.use_case_create, name="use-case-create"),
    path("use-cases/<int:pk>/edit/", views.use_case_update, name="use-case-update"),
    path("use-cases/<int:pk>/models/new/", views.ml_model_create, name="model-create"),
    path("models/<int:pk>/", views.ml_model_detail, name="model-detail"),
    path("models/<int:pk>/versions/new/", views.model_version_create, name="version-create"),
    path("datasets/", views.dataset_list_view, name="dataset-list"),
    path("datasets/new/", views.dataset_create, name="dataset-create"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<int:pk>/edit/", views.dataset_update, name="dataset-update"),
]
