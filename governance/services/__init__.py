"""Writes of the governance framework, one module per part of the template."""

from governance.services.classification import (
    classification_refresh,
    classification_submit,
    risk_rules_changed,
    use_case_facts,
    use_cases_reclassify,
)

__all__ = [
    "classification_refresh",
    "classification_submit",
    "risk_rules_changed",
    "use_case_facts",
    "use_cases_reclassify",
]
