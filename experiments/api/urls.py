from rest_framework.routers import SimpleRouter

from experiments.api import views

app_name = "experiments-api"

router = SimpleRouter()
router.register("experiments", views.ExperimentViewSet, basename="experiment")
urlpatterns = router.urls
