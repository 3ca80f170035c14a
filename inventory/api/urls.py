"""Inventory API routes, mounted at /api/v1/ by dashboard/api_urls.py."""

from rest_framework.routers import SimpleRouter

from inventory.api import views

app_name = "inventory-api"

router = SimpleRouter()
router.register("use-cases", views.UseCaseViewSet, basename="use-case")
router.register("teams", views.TeamViewSet, basename="team")
router.register("models", views.MLModelViewSet, basename="model")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("datasets", views.DatasetViewSet, basename="dataset")

urlpatterns = router.urls
