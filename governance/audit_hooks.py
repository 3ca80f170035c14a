"""What of the governance framework the audit trail records, and how each workflow
event is named (registered from ``GovernanceConfig.ready``)."""

from audit.registry import register


def _policy_action(instance, kind: str, changes: dict) -> str | None:
    if kind == "update" and changes.get("status", [None, None])[1] == "published":
        return "policy.published"
    return None


def _ethics_version_action(instance, kind: str, changes: dict) -> str | None:
    if kind == "update" and changes.get("status", [None, None])[1] == "published":
        return "ethics.version_published"
    return None


def _obligation_event_action(instance, kind: str, changes: dict) -> str | None:
    return f"obligation.{instance.kind}" if kind == "create" else None


def register_governance_models() -> None:
    """The governance framework's models and the user accounts and their roles
    (called from ``GovernanceConfig.ready``)."""
    from django.contrib.auth import get_user_model

    from governance import models as gm

    User = get_user_model()  # noqa: N806
    # Accounts and their roles (groups): who may sign is part of the record. The
    # password hash is never stored, only that it changed; logins are not changes.
    register(User, exclude=("last_login", "date_joined"), redact=("password",))
    # Step 1
    register(gm.RiskQuestion)
    register(gm.RiskQuestionOption, parent="question")
    register(gm.RiskRule, exclude=("updated_by",))
    register(gm.RiskRuleCondition, parent="rule")
    register(
        gm.Classification,
        parent="use_case",
        reason_field="note",
        action=lambda i, kind, c: "classification.recorded" if kind == "create" else None,
    )
    register(
        gm.ClassificationConfirmation,
        parent="use_case",
        reason_field="note",
        action=lambda i, kind, c: "classification.confirmed" if kind == "create" else None,
    )
    # Step 2
    register(gm.EthicsTemplate)
    register(gm.EthicsTemplateVersion, parent="template", action=_ethics_version_action)
    register(gm.EthicsQuestion, parent="version")
    register(gm.EthicsQuestionOption, parent="question")
    register(
        gm.EthicsAnswerSet,
        parent="use_case",
        reason_field="note",
        action=lambda i, kind, c: "ethics.answered" if kind == "create" else None,
    )
    register(
        gm.EthicsApproval,
        parent="answer_set",
        reason_field="note",
        action=lambda i, kind, c: "ethics.position_approved" if kind == "create" else None,
    )
    # Step 3: cells and assignments are overwritten in place; this is their history.
    register(gm.RaciRole)
    register(gm.RaciTask)
    register(gm.RaciTemplateCell, parent="task")
    register(gm.UseCaseRaciCell, parent="use_case")
    register(gm.RaciAssignment, parent="use_case")
    # Step 4
    register(gm.Consideration)
    register(gm.Measure, parent="consideration")
    register(gm.Policy)
    register(gm.PolicyVersion, parent="policy", action=_policy_action)
    register(gm.PolicyCell, parent="version")
    register(gm.Requirement, parent="regulation")
    register(gm.RequirementMinimum, parent="requirement")
    # Step 5: obligations (evidence, acceptance, waivers) and their events
    register(gm.Obligation, parent="use_case")
    register(
        gm.ObligationEvent,
        parent="obligation.use_case",
        reason_field="reason",
        action=_obligation_event_action,
    )
