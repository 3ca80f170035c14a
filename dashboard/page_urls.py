"""The composed pages: home and the use case page (its path stays under /inventory/)."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("my-work/", views.my_work_view, name="my-work"),
    path("my-work/counts/", views.my_work_counts_view, name="my-work-counts"),
    path("inventory/use-cases/<int:pk>/", views.use_case_detail, name="use-case-detail"),
]
