"""Four eyes on the framework: propose, approve (a second governance lead's
e-signature), reject or withdraw a change to the policy, the classification rules, the
organisation's ethical position, an ethics questionnaire's publication or the
catalogue.

- A proposal holds the exact content (and its SHA-256). Proposing again for the same
  target supersedes the pending proposal: the content of a proposal never changes.
- Only a governance lead other than the proposer approves or rejects, with the
  password typed again (never an API token). The change is applied in the same
  transaction as the approval, exactly as proposed; if the target changed since the
  proposal (a rule edited by another approved proposal, a draft edited), nothing is
  applied and the lead is told to propose again.
- Every step is an append-only record and an audit event (``framework_change.proposed``,
  ``framework_change.<outcome>``, named in ``governance.audit_hooks``).
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import is_governance_lead
from accounts.sso.signing import Credential, Reauthentication
from audit.services import audit_context, audit_record
from governance.models import (
    EthicsAnswerSet,
    EthicsTemplateVersion,
    FrameworkChange,
    FrameworkChangeDecision,
    PolicyVersion,
    RiskRule,
)
from governance.services import framework_content as fc
from governance.services.framework_emails import framework_change_notify
from governance.services.signing import (
    password_reconfirm,
    printed_name,
    reauthentication_record,
)

Kind = FrameworkChange.Kind
Outcome = FrameworkChangeDecision.Outcome
RULE_KINDS = (
    Kind.RISK_RULE_ADD,
    Kind.RISK_RULE_EDIT,
    Kind.RISK_RULE_ACTIVATE,
    Kind.RISK_RULE_DEACTIVATE,
)


# How a kind of change owned by a higher layer takes effect (e.g. a document template's
# publication, ``documents``): registered by that app when it is ready.
APPLIERS: dict[str, Callable[..., Any]] = {}


def register_applier(kind: str, apply: Callable[..., Any]) -> None:
    """``apply(change=..., by=...)`` makes an approved change of ``kind`` take effect,
    inside the approval's transaction (raise ValidationError to apply nothing)."""
    APPLIERS[kind] = apply


# What a higher layer does once any approved change took effect (e.g. ``engagement``
# starts an attestation campaign for a published policy or ethical position).
AFTER_APPLY: list[Callable[..., Any]] = []


def register_after_apply(hook: Callable[..., Any]) -> None:
    """``hook(change=..., result=..., by=...)`` runs inside the approval's transaction,
    right after the change took effect (raise ValidationError to apply nothing)."""
    if hook not in AFTER_APPLY:
        AFTER_APPLY.append(hook)


def _apply_and_follow(change: FrameworkChange, by: User, reason: str) -> Any:
    result = _apply(change, by, reason)
    for hook in AFTER_APPLY:
        hook(change=change, result=result, by=by)
    return result


def _require_lead(user: User, action: str) -> None:
    if not is_governance_lead(user):
        raise PermissionDenied(f"Only governance leads can {action}.")


def _decide(
    change: FrameworkChange, *, outcome: str, by: User, reason: str, auth: str | Reauthentication
):
    reauth = auth if isinstance(auth, Reauthentication) else None
    decision = FrameworkChangeDecision(
        change=change,
        outcome=outcome,
        by=by,
        at=timezone.now(),
        reason=reason,
        signed_content_sha256=change.content_sha256,
        printed_name=printed_name(by),
        auth_method=reauth.short_method if reauth else auth,
    )
    decision.full_clean(exclude=["change"])
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError as exc:  # another lead decided it at the same moment
        raise ValidationError(
            "This proposal was decided meanwhile; reload it.", code=CONFLICT
        ) from exc
    if reauth:
        reauthentication_record(reauth, obj=change, by=by, signature=decision.pk)
    return decision


def framework_change_propose(
    *,
    kind: str,
    target_key: str,
    content: Any,
    by: User,
    reason: str,
    base_sha256: str = "",
    policy_version: PolicyVersion | None = None,
    risk_rule: RiskRule | None = None,
    answer_set: EthicsAnswerSet | None = None,
) -> FrameworkChange:
    """Record a proposal (call inside the caller's transaction, after validating the
    content). A pending proposal for the same target is superseded by this one."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what changes and why."})
    change = FrameworkChange(
        kind=kind,
        target_key=target_key,
        content=content,
        content_sha256=fc.content_sha256(content),
        base_sha256=base_sha256,
        reason=reason[:1000],
        proposed_by=by,
        proposed_at=timezone.now(),
        policy_version=policy_version,
        risk_rule=risk_rule,
        answer_set=answer_set,
    )
    change.full_clean()
    older = list(
        # of=self: the undecided filter is an outer join PostgreSQL cannot lock.
        FrameworkChange.objects.select_for_update(of=("self",))
        .filter(target_key=target_key, decision__isnull=True)
        .order_by("id")
    )
    change.save()
    for old in older:
        _decide(
            old,
            outcome=Outcome.SUPERSEDED,
            by=by,
            reason=f"Superseded by proposal #{change.pk}.",
            auth="none",
        )
    framework_change_notify(change)
    return change


# --- proposing each kind ------------------------------------------------------------------


def framework_change_pending_for(*, target_key: str) -> FrameworkChange | None:
    return (
        FrameworkChange.objects.filter(target_key=target_key, decision__isnull=True)
        .order_by("-id")
        .first()
    )


def policy_target(version: PolicyVersion) -> str:
    return f"policy_version:{version.pk}"


@transaction.atomic
def policy_publish_propose(*, version: PolicyVersion, by: User, note: str) -> FrameworkChange:
    """Propose publishing a draft as it is now (cells, frozen measure texts and
    parameters, note). It is published when a second lead approves.

    Raises PermissionDenied for anyone but a governance lead; ValidationError for a
    published version, a missing note, an empty policy or a cell that names no measure.
    """
    _require_lead(by, "propose a policy version")
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise ValidationError(
            f"Version {version.label} is published and cannot be changed; create a draft.",
            code=CONFLICT,
        )
    content = fc.policy_publish_content(version=version, note=note)
    return framework_change_propose(
        kind=Kind.POLICY_PUBLISH,
        target_key=policy_target(version),
        content=content,
        by=by,
        reason=content["note"],
        policy_version=version,
    )


@transaction.atomic
def ethics_version_publish_propose(
    *, version: EthicsTemplateVersion, by: User, note: str = ""
) -> FrameworkChange:
    """Propose publishing an ethics questionnaire draft as it is now (its questions and
    options, and the note: the draft's own note when none is given). It is published,
    and becomes the version every new answer uses, when a second lead approves.

    Raises PermissionDenied for anyone but a governance lead; ValidationError for a
    published version, a missing note, an empty draft or a choice question without
    options.
    """
    _require_lead(by, "propose an ethics questionnaire version")
    version = EthicsTemplateVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != EthicsTemplateVersion.Status.DRAFT:
        raise ValidationError(f"{version} is published and cannot be changed.", code=CONFLICT)
    content = fc.ethics_publish_content(version=version, note=note or version.note)
    return framework_change_propose(
        kind=Kind.ETHICS_PUBLISH,
        target_key=f"ethics_version:{version.pk}",
        content=content,
        by=by,
        reason=content["note"],
        base_sha256=fc.content_sha256(content["questions"]),
    )


def rule_target(rule: RiskRule | None) -> str:
    return f"risk_rule:{rule.pk}" if rule is not None else "risk_rule:new"


@transaction.atomic
def risk_rule_propose(
    *, content: Any, by: User, reason: str, rule: RiskRule | None = None
) -> FrameworkChange:
    """Propose a new rule (``rule`` None) or a rule's new content (name, explanation,
    floors, order, active, conditions). Raises PermissionDenied for non-leads,
    ValidationError for invalid content or content equal to the rule's."""
    _require_lead(by, "change the classification rules")
    clean = fc.risk_rule_clean_content(content)
    base = ""
    kind = Kind.RISK_RULE_ADD
    if rule is not None:
        rule = RiskRule.objects.select_for_update().get(pk=rule.pk)
        current = fc.risk_rule_content(rule)
        if current == clean:
            raise ValidationError("This is the rule as it is; nothing to propose.")
        base = fc.content_sha256(current)
        only_active = {**current, "active": clean["active"]} == clean
        kind = (
            (Kind.RISK_RULE_ACTIVATE if clean["active"] else Kind.RISK_RULE_DEACTIVATE)
            if only_active
            else Kind.RISK_RULE_EDIT
        )
    return framework_change_propose(
        kind=kind,
        target_key=rule_target(rule)
        if rule
        else f"risk_rule:new:{by.pk}:{timezone.now().timestamp()}",
        content=clean,
        by=by,
        reason=reason,
        base_sha256=base,
        risk_rule=rule,
    )


def risk_rule_propose_active(
    *, rule: RiskRule, active: bool, by: User, reason: str
) -> FrameworkChange:
    """Propose activating or deactivating a rule (its content otherwise unchanged)."""
    _require_lead(by, "change the classification rules")
    if rule.active == active:
        state = "active" if active else "inactive"
        raise ValidationError(f"The rule “{rule}” is already {state}.")
    content = {**fc.risk_rule_content(rule), "active": active}
    return risk_rule_propose(content=content, by=by, reason=reason, rule=rule)


# --- deciding -----------------------------------------------------------------------------


def _fresh(change: FrameworkChange) -> FrameworkChange:
    return FrameworkChange.objects.select_related("decision").get(pk=change.pk)


def _check_decidable(change: FrameworkChange, by: User, verb: str) -> None:
    """Refusals of who may decide are audited (a refused signing attempt), in their own
    transaction when the caller's is rolled back."""
    try:
        _require_lead(by, f"{verb} a framework change")
        if change.proposed_by_id == by.pk:
            raise PermissionDenied(
                f"A governance lead other than the proposer must {verb} it (four eyes)."
            )
    except PermissionDenied as exc:
        audit_record(
            action="framework_change.decision_refused",
            actor=by if getattr(by, "is_authenticated", False) else None,
            object_type="governance.frameworkchange",
            object_id=str(change.pk),
            object_repr=str(change),
            reason=str(exc),
        )
        raise
    if not change.is_pending:
        raise ValidationError(
            f"This proposal is {change.status}; it cannot be {verb}d.", code=CONFLICT
        )


def _locked_pending(change: FrameworkChange) -> FrameworkChange:
    change = FrameworkChange.objects.select_for_update().get(pk=change.pk)
    if FrameworkChangeDecision.objects.filter(change=change).exists():
        raise ValidationError("This proposal was decided meanwhile; reload it.", code=CONFLICT)
    if fc.content_sha256(change.content) != change.content_sha256:
        raise ValidationError("This proposal's content does not match its hash; nothing applied.")
    return change


def _apply(change: FrameworkChange, by: User, reason: str) -> Any:
    if change.kind == Kind.POLICY_PUBLISH:
        return fc.policy_publish_apply(content=change.content, by=by)
    if change.kind in RULE_KINDS:
        return _apply_rule(change, by)
    if change.kind == Kind.ETHICS_POSITION:
        from governance.services.ethics import ethics_position_take_effect

        return ethics_position_take_effect(answer_set=change.answer_set, by=by, note=reason)
    if change.kind == Kind.ETHICS_PUBLISH:
        return fc.ethics_publish_apply(content=change.content, by=by)
    if change.kind == Kind.CATALOGUE_EDIT:
        from governance.services.catalogue_changes import catalogue_apply

        return catalogue_apply(change=change, by=by)
    if change.kind in APPLIERS:
        return APPLIERS[change.kind](change=change, by=by)
    raise ValidationError(f"Unknown kind of change {change.kind!r}.")


def _apply_rule(change: FrameworkChange, by: User) -> RiskRule:
    from governance.services.classification import risk_rules_changed

    rule = None
    if change.risk_rule_id is not None:
        rule = RiskRule.objects.select_for_update().get(pk=change.risk_rule_id)
        if fc.content_sha256(fc.risk_rule_content(rule)) != change.base_sha256:
            raise ValidationError(
                f"The rule “{rule}” changed since this was proposed; propose the change again."
            )
    rule = fc.risk_rule_apply(content=change.content, rule=rule, by=by)
    risk_rules_changed(by=by)
    return rule


def framework_change_approve(
    *,
    change: FrameworkChange,
    by: User,
    password: Credential,
    reason: str = "",
    via_token: bool = False,
) -> FrameworkChangeDecision:
    """Sign the approval of a pending proposal (password typed now) and apply the
    change exactly as proposed, in one transaction.

    Raises PermissionDenied for non-leads, the proposer, an API token or a locked
    signer; ValidationError for a wrong password, a decided proposal or a target
    that changed since it was proposed (nothing is applied then).
    """
    change = _fresh(change)
    _check_decidable(change, by, "approve")
    reauth = password_reconfirm(
        user=by,
        password=password,
        what=f"approve framework change #{change.pk}",
        via_token=via_token,
        fields={"reason": (reason or "").strip()},
    )
    with transaction.atomic():
        change = _locked_pending(change)
        _check_decidable(change, by, "approve")
        with audit_context(actor=by, reason=f"Framework change #{change.pk} approved."):
            _apply_and_follow(change, by, (reason or "").strip())
            return _decide(
                change, outcome=Outcome.APPROVED, by=by, reason=(reason or "").strip(), auth=reauth
            )


def framework_change_reject(
    *,
    change: FrameworkChange,
    by: User,
    password: Credential,
    reason: str,
    via_token: bool = False,
) -> FrameworkChangeDecision:
    """Sign the rejection of a pending proposal (another lead, password typed now, a
    reason). Nothing of the proposal takes effect."""
    change = _fresh(change)
    _check_decidable(change, by, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "A rejection needs a reason."})
    reauth = password_reconfirm(
        user=by,
        password=password,
        what=f"reject framework change #{change.pk}",
        via_token=via_token,
        approving=False,
        fields={"reason": reason},
    )
    with transaction.atomic():
        change = _locked_pending(change)
        return _decide(change, outcome=Outcome.REJECTED, by=by, reason=reason, auth=reauth)


@transaction.atomic
def framework_change_withdraw(
    *, change: FrameworkChange, by: User, reason: str = ""
) -> FrameworkChangeDecision:
    """The proposer withdraws a pending proposal. Raises PermissionDenied for anyone
    else, ValidationError for a decided proposal."""
    _require_lead(by, "withdraw a framework change")
    change = _fresh(change)
    if change.proposed_by_id != by.pk:
        raise PermissionDenied("Only the lead who proposed it can withdraw it.")
    if not change.is_pending:
        raise ValidationError(
            f"This proposal is {change.status}; it cannot be withdrawn.", code=CONFLICT
        )
    change = _locked_pending(change)
    return _decide(
        change,
        outcome=Outcome.WITHDRAWN,
        by=by,
        reason=(reason or "").strip() or "Withdrawn by the proposer.",
        auth="session",
    )


def framework_change_approve_seeded(
    *, change: FrameworkChange, by: User, reason: str = ""
) -> FrameworkChangeDecision:
    """Approve without a password, recorded honestly as ``auth_method="seeded"``.
    For the demo loader only; no page or endpoint calls it. The four-eyes rule
    (another lead) still holds."""
    change = _fresh(change)
    _check_decidable(change, by, "approve")
    with transaction.atomic():
        change = _locked_pending(change)
        _apply_and_follow(change, by, reason)
        return _decide(change, outcome=Outcome.APPROVED, by=by, reason=reason, auth="seeded")
