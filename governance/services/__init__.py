"""Writes of the governance framework, one module per part of the template."""

from governance.services.classification import (
    classification_refresh,
    classification_submit,
    risk_rules_changed,
    use_case_facts,
    use_cases_reclassify,
)
from governance.services.policy import (  # Step 4
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
    policy_publish,
)

__all__ = [
    "classification_refresh",
    "classification_submit",
    "risk_rules_changed",
    "use_case_facts",
    "use_cases_reclassify",
    "policy_cells_set",
    "policy_draft_create",
    "policy_draft_discard",
    "policy_publish",
]
