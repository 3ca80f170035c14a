"""Pages of Step 8: the KPI trends and the framework reviews."""

from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("", views.kpi_view, name="kpis"),
    path("export.csv", views.kpi_export_csv, name="kpis-csv"),
    path("reviews/", views.review_list_view, name="reviews"),
    path("reviews/new/", views.review_create_view, name="review-create"),
    path("reviews/<int:pk>/", views.review_detail_view, name="review-detail"),
    path("reviews/<int:pk>/conclusion/", views.review_conclude_view, name="review-conclude"),
    path("reviews/<int:pk>/proposals/", views.proposal_add_view, name="proposal-add"),
    path(
        "reviews/<int:pk>/proposals/<int:proposal_pk>/draft/",
        views.proposal_draft_view,
        name="proposal-draft",
    ),
    path("reviews/<int:pk>/sign/", views.review_sign_view, name="review-sign"),
]
