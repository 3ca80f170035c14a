from django.urls import path
from rest_framework.routers import SimpleRouter

from fairness import downloads
from fairness.api import views, warehouse

app_name = "fairness-api"

router = SimpleRouter()
router.register("scored-datasets", views.ScoredDatasetViewSet, basename="scored-dataset")
router.register("bias-summaries", views.BiasSummaryViewSet, basename="bias-summary")
router.register(
    "warehouse-connections",
    warehouse.WarehouseConnectionViewSet,
    basename="warehouse-connection",
)
urlpatterns = [
    path(
        "scored-datasets/<int:pk>/download/",
        downloads.scored_dataset_download,
        name="scored-dataset-download",
    ),
    *router.urls,
]
