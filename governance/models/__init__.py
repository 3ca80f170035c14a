"""Governance framework models, one module per part of the template."""

from governance.models.classification import (
    Classification,
    Regulation,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)

__all__ = [
    "Classification",
    "Regulation",
    "RiskQuestion",
    "RiskQuestionOption",
    "RiskRule",
    "RiskRuleCondition",
]
