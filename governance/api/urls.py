"""Governance API routes, mounted at /api/v1/ by dashboard/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api_tokens import TokenObtainView
from governance.api import classification as classification_api
from governance.api import confirmation as confirmation_api
from governance.api import ethics as ethics_api
from governance.api import evidence as evidence_api
from governance.api import framework_changes as framework_changes_api
from governance.api import obligations as obligations_api
from governance.api import policy as policy_api
from governance.api import raci as raci_api
from governance.api import versions as versions_api
from governance.api import views

app_name = "governance-api"

router = SimpleRouter()
router.register("regulations", views.RegulationViewSet, basename="regulation")
# Step 1 of one use case, under its path (use-cases/{id}/classification/)
router.register("use-cases", classification_api.UseCaseClassificationViewSet, basename="use-case")
# The second line's confirmation and the regulatory requirements (issue 12)
router.register(
    "use-cases", confirmation_api.UseCaseSecondLineViewSet, basename="use-case-second-line"
)
router.register("risk-questions", views.RiskQuestionViewSet, basename="risk-question")
router.register("risk-rules", views.RiskRuleViewSet, basename="risk-rule")
# Step 2: ethical position
router.register("ethics-templates", ethics_api.EthicsTemplateViewSet, basename="ethics-template")
router.register("ethics-versions", ethics_api.EthicsVersionViewSet, basename="ethics-version")
router.register(
    "ethics-answer-sets", ethics_api.EthicsAnswerSetViewSet, basename="ethics-answer-set"
)
# Step 3: responsibilities
router.register("raci-roles", raci_api.RaciRoleViewSet, basename="raci-role")
router.register("raci-tasks", raci_api.RaciTaskViewSet, basename="raci-task")
router.register("raci-template", raci_api.RaciTemplateViewSet, basename="raci-template")
router.register("raci-matrices", raci_api.RaciMatrixViewSet, basename="raci-matrix")
# Step 4: policies
router.register("considerations", policy_api.ConsiderationViewSet, basename="consideration")
router.register("measure-levels", policy_api.MeasureLevelViewSet, basename="measure-level")
router.register("policies", policy_api.PolicyViewSet, basename="policy")
router.register("policy-versions", policy_api.PolicyVersionViewSet, basename="policy-version")
router.register(
    "regulation-requirements", policy_api.RequirementViewSet, basename="regulation-requirement"
)
router.register(
    "ethics-deviations", framework_changes_api.EthicsDeviationViewSet, basename="ethics-deviation"
)
# Four eyes on the framework: proposals and their signed decisions
router.register(
    "framework-changes", framework_changes_api.FrameworkChangeViewSet, basename="framework-change"
)
# Step 5: obligations
router.register("obligations", obligations_api.ObligationViewSet, basename="obligation")
router.register(
    "change-declarations", versions_api.ChangeDeclarationViewSet, basename="change-declaration"
)

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path(
        "obligations/<int:pk>/evidence/file/",
        evidence_api.obligation_evidence_file,
        name="obligation-evidence-file",
    ),
    *router.urls,
]
