"""Pages of the governance framework (home dashboard, classification)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "governance"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/"), name="home"),
]
