"""Pages of experiments (mounted under /reviews/, where they have always been)."""

from django.urls import path

from experiments import views as experiment_views

app_name = "experiments"

urlpatterns = [
    path("experiments/", experiment_views.experiment_list_view, name="experiment-list"),
    path(
        "use-cases/<int:pk>/experiments/new/",
        experiment_views.experiment_create_view,
        name="experiment-create",
    ),
    path(
        "experiments/<int:pk>/", experiment_views.experiment_detail_view, name="experiment-detail"
    ),
    path(
        "experiments/<int:pk>/edit/", experiment_views.experiment_edit_view, name="experiment-edit"
    ),
    path(
        "experiments/<int:pk>/start/",
        experiment_views.experiment_start_view,
        name="experiment-start",
    ),
    path(
        "experiments/<int:pk>/abandon/",
        experiment_views.experiment_abandon_view,
        name="experiment-abandon",
    ),
    path(
        "experiments/<int:pk>/outcomes/",
        experiment_views.experiment_upload_view,
        name="experiment-upload",
    ),
    path(
        "experiments/<int:pk>/sign-result/",
        experiment_views.experiment_sign_result_view,
        name="experiment-sign-result",
    ),
    path(
        "experiments/<int:pk>/analyse/",
        experiment_views.experiment_analyse_view,
        name="experiment-analyse",
    ),
    path(
        "experiments/<int:pk>/override-result/",
        experiment_views.experiment_override_view,
        name="experiment-override",
    ),
    path(
        "experiments/<int:pk>/evidence/",
        experiment_views.experiment_evidence_view,
        name="experiment-evidence",
    ),
]
