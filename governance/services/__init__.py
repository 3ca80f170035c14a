"""Writes of the governance framework, one module per part of the template."""

from governance.services.classification import (
    classification_confirm,
    classification_refresh,
    classification_submit,
    risk_rules_changed,
    use_case_facts,
    use_cases_reclassify,
)
from governance.services.ethics import (  # Step 2
    ethics_position_answer,
    ethics_position_approve,
    ethics_question_remove,
    ethics_question_set,
    ethics_use_case_answer,
    ethics_version_draft_create,
    use_cases_reclassify_ethics,
)
from governance.services.ethics_deviations import (  # Step 2 applied
    ethics_deviations_refresh,
    ethics_deviations_refresh_all,
)
from governance.services.framework_changes import (  # four eyes on the framework
    ethics_version_publish_propose,
    framework_change_approve,
    framework_change_reject,
    framework_change_withdraw,
    policy_publish_propose,
    risk_rule_propose,
    risk_rule_propose_active,
)
from governance.services.obligations import (  # Step 5
    obligation_accept,
    obligation_submit_evidence,
    obligation_waive,
    obligations_recompute,
    obligations_recompute_all,
    obligations_recompute_later,
)
from governance.services.policy import (  # Step 4
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
    policy_engagement_set,
    policy_finding_rules_set,
)
from governance.services.raci import raci_assign, raci_matrix_set, raci_unassign  # Step 3
from governance.services.versions import (  # Step 5, version scope
    change_confirm,
    change_declare,
    obligation_carry_over,
    obligation_signoff_satisfied,
)

__all__ = [
    "change_confirm",
    "change_declare",
    "obligation_carry_over",
    "obligation_signoff_satisfied",
    "classification_confirm",
    "classification_refresh",
    "classification_submit",
    "risk_rules_changed",
    "use_case_facts",
    "use_cases_reclassify",
    # Step 2: ethical position
    "ethics_position_answer",
    "ethics_position_approve",
    "ethics_question_remove",
    "ethics_question_set",
    "ethics_use_case_answer",
    "ethics_version_draft_create",
    "ethics_version_publish_propose",
    "use_cases_reclassify_ethics",
    "policy_cells_set",
    "policy_engagement_set",
    "policy_finding_rules_set",
    "policy_draft_create",
    "policy_draft_discard",
    "ethics_deviations_refresh",
    "ethics_deviations_refresh_all",
    "framework_change_approve",
    "framework_change_reject",
    "framework_change_withdraw",
    "policy_publish_propose",
    "risk_rule_propose",
    "risk_rule_propose_active",
    "raci_assign",
    "raci_matrix_set",
    "raci_unassign",
    # Step 5: obligations
    "obligation_accept",
    "obligation_submit_evidence",
    "obligation_waive",
    "obligations_recompute",
    "obligations_recompute_all",
    "obligations_recompute_later",
]
