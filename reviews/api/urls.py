from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.api import findings, validation, views

app_name = "reviews-api"

router = SimpleRouter()
router.register("promotion-requests", views.PromotionRequestViewSet, basename="promotion-request")
router.register("findings", findings.FindingViewSet, basename="finding")
router.register("gate-calls", views.GateCallViewSet, basename="gate-call")
router.register("validations", validation.ValidationViewSet, basename="validation")
router.register(
    "finding-acceptances", validation.FindingAcceptanceViewSet, basename="finding-acceptance"
)

urlpatterns = [
    path("gate/", views.GateView.as_view(), name="deployment-gate"),
    path("gate/client/", views.GateClientView.as_view(), name="gate-client"),
    *router.urls,
]
