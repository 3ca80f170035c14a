"""Pages of the governance framework: the classification questionnaire (under the use
case's path), ethics, RACI, policy and obligations."""

from django.urls import path

from governance import views
from governance.views import confirmation as confirmation_views
from governance.views import declarations as declaration_views
from governance.views import deviations as deviation_views
from governance.views import ethics as ethics_views
from governance.views import evidence as evidence_views
from governance.views import framework_changes as fc_views
from governance.views import obligations as obligation_views
from governance.views import policy as policy_views
from governance.views import raci as raci_views

app_name = "governance"

urlpatterns = [
    path(
        "inventory/use-cases/<int:pk>/classify/",
        views.use_case_classify,
        name="use-case-classify",
    ),
    path(
        "inventory/use-cases/<int:pk>/classification/confirm/",
        confirmation_views.classification_confirm_view,
        name="use-case-classification-confirm",
    ),
    # Step 2: ethical position
    path("ethics/", ethics_views.ethics_position, name="ethics"),
    path(
        "ethics/deviations/<int:pk>/accept/",
        deviation_views.ethics_deviation_accept_view,
        name="ethics-deviation-accept",
    ),
    path("ethics/answer/", ethics_views.ethics_position_answer_view, name="ethics-answer"),
    path("ethics/compare/", ethics_views.ethics_compare_view, name="ethics-compare"),
    path(
        "ethics/answer-sets/<int:pk>/",
        ethics_views.ethics_answer_set_detail,
        name="ethics-answer-set",
    ),
    path(
        "ethics/answer-sets/<int:pk>/approve/",
        ethics_views.ethics_position_approve_view,
        name="ethics-approve",
    ),
    path("ethics/versions/<int:pk>/", ethics_views.ethics_version_detail, name="ethics-version"),
    path("ethics/use-cases/<int:pk>/", ethics_views.ethics_use_case, name="ethics-use-case"),
    path("ethics/unanswered/", ethics_views.ethics_unanswered, name="ethics-unanswered"),
    path(
        "ethics/use-cases/<int:pk>/answer/",
        ethics_views.ethics_use_case_answer_view,
        name="ethics-use-case-answer",
    ),
    # Step 3: responsibilities
    path("raci/mine/", raci_views.raci_mine, name="raci-mine"),
    path("raci/use-cases/<int:pk>/", raci_views.raci_use_case, name="raci-use-case"),
    path("raci/incomplete/", raci_views.raci_incomplete, name="raci-incomplete"),
    path(
        "raci/use-cases/<int:pk>/assignments/",
        raci_views.raci_assignment_add,
        name="raci-assignment-add",
    ),
    path(
        "raci/use-cases/<int:pk>/assignments/<int:assignment_pk>/remove/",
        raci_views.raci_assignment_remove,
        name="raci-assignment-remove",
    ),
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
    path(
        "policy/versions/<int:pk>/finding-rules/",
        policy_views.policy_finding_rules_view,
        name="policy-finding-rules",
    ),
    path(
        "policy/versions/<int:pk>/engagement/",
        policy_views.policy_engagement_view,
        name="policy-engagement",
    ),
    # Four eyes on the framework
    path("framework-changes/", fc_views.framework_change_list_view, name="framework-changes"),
    path("framework-changes/<int:pk>/", fc_views.framework_change_detail, name="framework-change"),
    path(
        "framework-changes/<int:pk>/approve/",
        fc_views.framework_change_approve_view,
        name="framework-change-approve",
    ),
    path(
        "framework-changes/<int:pk>/reject/",
        fc_views.framework_change_reject_view,
        name="framework-change-reject",
    ),
    path(
        "framework-changes/<int:pk>/withdraw/",
        fc_views.framework_change_withdraw_view,
        name="framework-change-withdraw",
    ),
    path("risk-rules/", fc_views.risk_rule_list_view, name="risk-rules"),
    path("risk-rules/propose/", fc_views.risk_rule_propose_view, name="risk-rule-propose-new"),
    path("risk-rules/<int:pk>/propose/", fc_views.risk_rule_propose_view, name="risk-rule-propose"),
    # Step 5: a version's change declaration and its signed confirmation
    path(
        "obligations/versions/<int:pk>/change-declaration/",
        declaration_views.change_declaration_view,
        name="version-change-declaration",
    ),
    path(
        "obligations/versions/<int:pk>/change-declaration/declare/",
        declaration_views.change_declaration_declare,
        name="version-change-declaration-declare",
    ),
    path(
        "obligations/versions/<int:pk>/change-declaration/confirm/",
        declaration_views.change_declaration_confirm,
        name="version-change-declaration-confirm",
    ),
    # Step 5: obligations
    path("obligations/", obligation_views.obligation_portfolio, name="obligations"),
    path(
        "obligations/use-cases/<int:pk>/",
        obligation_views.obligation_use_case,
        name="obligations-use-case",
    ),
    path(
        "obligations/use-cases/<int:pk>/<int:obligation_pk>/evidence/",
        obligation_views.obligation_evidence_view,
        name="obligation-evidence",
    ),
    path(
        "obligations/use-cases/<int:pk>/<int:obligation_pk>/evidence/file/",
        evidence_views.obligation_evidence_file_view,
        name="obligation-evidence-file",
    ),
    path(
        "obligations/use-cases/<int:pk>/<int:obligation_pk>/accept/",
        obligation_views.obligation_accept_view,
        name="obligation-accept",
    ),
    path(
        "obligations/use-cases/<int:pk>/<int:obligation_pk>/waive/",
        obligation_views.obligation_waive_view,
        name="obligation-waive",
    ),
]
