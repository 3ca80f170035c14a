from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.api import bias, views
from reviews.api import experiments as experiment_api
from reviews.api import monitoring as monitoring_api

app_name = "reviews-api"

router = SimpleRouter()
router.register("promotion-requests", views.PromotionRequestViewSet, basename="promotion-request")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("gate-calls", views.GateCallViewSet, basename="gate-call")
router.register("scored-datasets", bias.ScoredDatasetViewSet, basename="scored-dataset")
router.register("bias-summaries", bias.BiasSummaryViewSet, basename="bias-summary")
router.register("experiments", experiment_api.ExperimentViewSet, basename="experiment")
router.register(
    "monitoring-configs", monitoring_api.MonitoringConfigViewSet, basename="monitoring-config"
)
router.register(
    "monitoring-windows", monitoring_api.MonitoringWindowViewSet, basename="monitoring-window"
)
router.register("drift-alerts", monitoring_api.DriftAlertViewSet, basename="drift-alert")

urlpatterns = [
    path("gate/", views.GateView.as_view(), name="deployment-gate"),
    *router.urls,
]
