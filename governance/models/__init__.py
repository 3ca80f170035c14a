"""Governance framework models, one module per part of the template."""

from governance.models.classification import (
    Classification,
    ClassificationConfirmation,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from governance.models.ethics import (  # Step 2
    EthicsAnswerSet,
    EthicsApproval,
    EthicsDeviation,
    EthicsDeviationAcceptance,
    EthicsQuestion,
    EthicsQuestionOption,
    EthicsTemplate,
    EthicsTemplateVersion,
)
from governance.models.framework_changes import FrameworkChange, FrameworkChangeDecision
from governance.models.obligations import (  # Step 5
    ChangeConfirmation,
    ChangeDeclaration,
    Obligation,
    ObligationEvent,
)
from governance.models.policy import (  # Step 4
    Consideration,
    Measure,
    MeasureLevel,
    Policy,
    PolicyCell,
    PolicyFindingRule,
    PolicyVersion,
    Requirement,
    RequirementMinimum,
)
from governance.models.raci import (  # Step 3
    RaciAssignment,
    RaciRole,
    RaciTask,
    RaciTemplateCell,
    ResponsibilityLevel,
    UseCaseRaciCell,
)

__all__ = [
    "Classification",
    "ClassificationConfirmation",
    "RiskQuestion",
    "RiskQuestionOption",
    "RiskRule",
    "RiskRuleCondition",
    # Step 2: ethical position
    "EthicsAnswerSet",
    "EthicsApproval",
    "EthicsDeviation",
    "EthicsDeviationAcceptance",
    "EthicsQuestion",
    "EthicsQuestionOption",
    "EthicsTemplate",
    "EthicsTemplateVersion",
    # Step 3: responsibilities
    "RaciAssignment",
    "RaciRole",
    "RaciTask",
    "RaciTemplateCell",
    "ResponsibilityLevel",
    "UseCaseRaciCell",
    # Step 4: policies
    "Consideration",
    "Measure",
    "MeasureLevel",
    "Policy",
    "PolicyCell",
    "PolicyFindingRule",
    "PolicyVersion",
    "Requirement",
    "RequirementMinimum",
    # Four eyes on the framework
    "FrameworkChange",
    "FrameworkChangeDecision",
    # Step 5: obligations
    "ChangeConfirmation",
    "ChangeDeclaration",
    "Obligation",
    "ObligationEvent",
]
