"""Pages of the governance framework (home dashboard). The classification
questionnaire hangs off a use case, so it is routed in inventory/urls.py."""

from django.urls import path

from governance import views
from governance.views import policy as policy_views

app_name = "governance"

urlpatterns = [
    path("", views.home, name="home"),
    # Step 4: policies
    path("policy/", policy_views.policy_overview, name="policy"),
    path("policy/drafts/new/", policy_views.policy_draft_new, name="policy-draft-new"),
    path("policy/versions/<int:pk>/", policy_views.policy_version_detail, name="policy-version"),
    path(
        "policy/versions/<int:pk>/publish/",
        policy_views.policy_version_publish,
        name="policy-version-publish",
    ),
    path(
        "policy/versions/<int:pk>/discard/",
        policy_views.policy_version_discard,
        name="policy-version-discard",
    ),
    path("policy/diff/", policy_views.policy_diff, name="policy-diff"),
]
