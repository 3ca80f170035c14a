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
    ethics_version_publish,
    use_cases_reclassify_ethics,
)
from governance.services.obligations import (  # Step 5
    obligation_accept,
    obligation_submit_evidence,
    obligation_waive,
    obligations_notify_owners,
    obligations_recompute,
    obligations_recompute_all,
    obligations_recompute_later,
)
from governance.services.policy import (  # Step 4
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
    policy_publish,
)
from governance.services.raci import raci_assign, raci_matrix_set, raci_unassign  # Step 3

__all__ = [
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
    "ethics_version_publish",
    "use_cases_reclassify_ethics",
    "policy_cells_set",
    "policy_draft_create",
    "policy_draft_discard",
    "policy_publish",
    "raci_assign",
    "raci_matrix_set",
    "raci_unassign",
    # Step 5: obligations
    "obligation_accept",
    "obligation_submit_evidence",
    "obligation_waive",
    "obligations_notify_owners",
    "obligations_recompute",
    "obligations_recompute_all",
    "obligations_recompute_later",
]
