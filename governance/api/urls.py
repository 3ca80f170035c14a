"""Governance API routes, mounted at /api/v1/ by governance/api_urls.py."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from governance.api import views

app_name = "governance-api"

router = SimpleRouter()
router.register("regulations", views.RegulationViewSet, basename="regulation")
router.register("risk-questions", views.RiskQuestionViewSet, basename="risk-question")
router.register("risk-rules", views.RiskRuleViewSet, basename="risk-rule")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token-obtain"),
    *router.urls,
]
