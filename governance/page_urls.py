"""Pages of the governance framework (home dashboard). The classification
questionnaire hangs off a use case, so it is routed in inventory/urls.py."""

from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.home, name="home"),
]
