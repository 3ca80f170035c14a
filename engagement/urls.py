from django.urls import path

from engagement import views

app_name = "engagement"

urlpatterns = [
    path("attestations/", views.campaign_list_view, name="campaigns"),
    path("attestations/<int:pk>/", views.campaign_detail_view, name="campaign-detail"),
    path(
        "attestations/<int:pk>/acknowledge/",
        views.campaign_acknowledge_view,
        name="campaign-acknowledge",
    ),
    path("training/", views.module_list_view, name="modules"),
    path("training/<slug:code>/", views.module_detail_view, name="module-detail"),
    path("training/<slug:code>/submit/", views.module_submit_view, name="module-submit"),
]
