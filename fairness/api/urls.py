from rest_framework.routers import SimpleRouter

from fairness.api import views

app_name = "fairness-api"

router = SimpleRouter()
router.register("scored-datasets", views.ScoredDatasetViewSet, basename="scored-dataset")
router.register("bias-summaries", views.BiasSummaryViewSet, basename="bias-summary")
urlpatterns = router.urls
