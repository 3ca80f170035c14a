from rest_framework.routers import SimpleRouter

from monitoring.api import views

app_name = "monitoring-api"

router = SimpleRouter()
router.register("monitoring-configs", views.MonitoringConfigViewSet, basename="monitoring-config")
router.register("monitoring-windows", views.MonitoringWindowViewSet, basename="monitoring-window")
router.register("drift-alerts", views.DriftAlertViewSet, basename="drift-alert")
urlpatterns = router.urls
