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


def _token_action(instance, kind: str, changes: dict) -> str | None:
    if kind == "create":
        return "api_token.created"
    if kind == "update" and changes.get("revoked_at", [None, None])[1] is not None:
        return "api_token.revoked"
    return None


def _role_grant_action(instance, kind: str, changes: dict) -> str | None:
    if kind == "create":
        return "role_grant.requested"
    status = changes.get("status", [None, None])[1]
    return f"role_grant.{status}" if kind == "update" and status else None


def _login_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes locked an account or address: one event when the lock starts (the
    failure that reaches the limit), not one per refused attempt after it."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from audit.services import audit_record

    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures != settings.AXES_FAILURE_LIMIT:
        return
    user = get_user_model().objects.filter(username=username).first() if username else None
    audit_record(
        action="login.locked_out",
        object_type="auth.user",
        object_id=user.pk if user else "",
        object_repr=(username or "")[:150],
        changes={"ip_address": [None, ip_address], "failures": [None, failures]},
        reason=f"{settings.AXES_FAILURE_LIMIT} failed sign-in attempts",
    )


def register_account_events() -> None:
    """API tokens (issued, revoked: never their secret or digest), four-eyes role
    grants (requested, confirmed, refused) and login lockouts."""
    from axes.signals import user_locked_out

    from accounts.models import ApiToken, RoleGrant, SsoIdentity
    from accounts.sso.hooks import register_audit_scope
    from audit.services import audit_context

    register(
        ApiToken,
        parent="user",
        exclude=("last_used",),
        redact=("digest",),
        reason_field="revoked_reason",
        action=_token_action,
    )
    register(RoleGrant, parent="user", reason_field="reason", action=_role_grant_action)
    # Single sign-on (issue 17): the identity an account was made for, and the scope its
    # just-in-time creation, its roles from the groups claim and its locking are
    # recorded under (the changes themselves are the users' and groups' own events).
    register(SsoIdentity, parent="user")
    register_audit_scope(audit_context)
    user_locked_out.connect(_login_locked_out, dispatch_uid="audit-login-locked-out")


def register_governance_models() -> None:
    """The governance framework's models and the user accounts and their roles
    (called from ``GovernanceConfig.ready``)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from governance import models as gm

    User = get_user_model()  # noqa: N806
    # Accounts and their roles (groups): who may sign is part of the record. The
    # password hash is never stored, only that it changed; logins are not changes. The
    # date joined is kept: it sets when a person's first attestations and training fall
    # due (engagement.selectors), so changing it is a governed change.
    register(User, exclude=("last_login",), redact=("password",))
    # A role is a group: renaming it or changing what it permits (a superuser's
    # break-glass edit in the admin, or a migration syncing the roles' permissions) is
    # recorded like a change of who holds it.
    register(Group)
    register_account_events()
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
    register(
        gm.EthicsDeviation,
        parent="use_case",
        reason_field="close_reason",
        action=lambda i, kind, c: (
            "ethics.deviation_opened"
            if kind == "create"
            else ("ethics.deviation_closed" if "closed_at" in c else None)
        ),
    )
    register(
        gm.EthicsDeviationAcceptance,
        parent="deviation",
        reason_field="reason",
        action=lambda i, kind, c: "ethics.deviation_accepted" if kind == "create" else None,
    )
    # Four eyes on the framework: proposals and their signed decisions
    register(
        gm.FrameworkChange,
        reason_field="reason",
        action=lambda i, kind, c: "framework_change.proposed" if kind == "create" else None,
    )
    register(
        gm.FrameworkChangeDecision,
        parent="change",
        reason_field="reason",
        action=lambda i, kind, c: f"framework_change.{i.outcome}" if kind == "create" else None,
    )
    # Step 5: obligations (evidence, acceptance, waivers) and their events
    register(gm.Obligation, parent="use_case")
    register(gm.ChangeDeclaration, parent="model_version", reason_field="note")
    register(gm.ChangeConfirmation, parent="declaration.model_version", reason_field="note")
    register(
        gm.ObligationEvent,
        parent="obligation.use_case",
        reason_field="reason",
        action=_obligation_event_action,
    )
