"""Reads of the governance framework, one module per part of the template."""

from governance.selectors.classification import (
    classification_answers_display,
    classification_answers_for_form,
    classification_latest,
    classification_list,
    classification_recent,
    regulation_list,
    risk_question_as_engine,
    risk_question_list,
    risk_questions_as_engine,
    risk_rule_list,
    risk_rules_as_engine,
    rules_fingerprint,
)

__all__ = [
    "classification_answers_display",
    "classification_answers_for_form",
    "classification_latest",
    "classification_list",
    "classification_recent",
    "regulation_list",
    "risk_question_as_engine",
    "risk_question_list",
    "risk_questions_as_engine",
    "risk_rule_list",
    "risk_rules_as_engine",
    "rules_fingerprint",
]
