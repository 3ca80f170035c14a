"""Writes of Step 7 (issue 16): start an attestation campaign when a policy version or
an ethical position is published, acknowledge it, take a training module's knowledge
check, and the daily reminders and escalations.

Every write is one transaction and an audit event (``engagement.audit_hooks``);
refusals raise PermissionDenied or ValidationError and write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import has_any_role, user_roles
from accounts.roles import Role
from audit.services import audit_context
from core import engagement_rules as er
from engagement import selectors as sel
from engagement.models import (
    Attestation,
    AttestationCampaign,
    TrainingCompletion,
    TrainingModule,
)
from governance.models import EthicsApproval, FrameworkChange, PolicyVersion
from governance.selectors.policy import policy_engagement, policy_engagement_row
from governance.selectors.signers import signer_refusal_forget
from notifications.models import Notification
from notifications.services import notification_queue

Kind = Notification.Kind
# Failed knowledge checks of one module allowed per person in this window.
MAX_FAILED_ATTEMPTS = 3
ATTEMPT_WINDOW = timedelta(hours=1)
# Names listed in an escalation e-mail; the campaign page lists them all.
ESCALATION_NAMES = 50


# --- campaigns -----------------------------------------------------------------------------


def campaign_start_for_change(*, change: FrameworkChange, result: Any, by: User) -> None:
    """Hook run inside the approval that applied ``change``: a published policy
    version or an approved ethical position starts a campaign."""
    if change.kind == FrameworkChange.Kind.POLICY_PUBLISH and isinstance(result, PolicyVersion):
        campaign_start(policy_version=result, by=by, framework_change=change)
    elif change.kind == FrameworkChange.Kind.ETHICS_POSITION and isinstance(result, EthicsApproval):
        campaign_start(ethics_approval=result, by=by, framework_change=change)


@transaction.atomic
def campaign_start(
    *,
    by: User,
    policy_version: PolicyVersion | None = None,
    ethics_approval: EthicsApproval | None = None,
    framework_change: FrameworkChange | None = None,
) -> AttestationCampaign:
    """Start the campaign for a published policy version or an approved ethical
    position: the roles and days come from the policy in force (the version itself when
    it is a policy); everyone concerned is e-mailed. One campaign per publication."""
    if (policy_version is None) == (ethics_approval is None):
        raise ValidationError("A campaign is about one policy version or one ethical position.")
    if policy_version is not None:
        if policy_version.status != PolicyVersion.Status.PUBLISHED:
            raise ValidationError("Only a published policy version is acknowledged.")
        settings = policy_engagement_row(policy_version)
        subject = AttestationCampaign.Subject.POLICY
        title = f"{policy_version.policy} v{policy_version.number}"
        summary = policy_version.change_note
        what = f"the {title}"
    else:
        settings = policy_engagement()
        subject = AttestationCampaign.Subject.ETHICS
        approved_on = timezone.localdate(ethics_approval.approved_at)
        title = f"Ethical position approved on {approved_on:%d %b %Y}"
        summary = ethics_approval.note
        what = "the organisation's ethical position"
    statement = (
        f"I have read and understood {what}, and I will apply it in my work. "
        f"What changed: {summary or 'see the publication'}."
    )
    now = timezone.now()
    with audit_context(actor=by, reason=f"Published: {title}."):
        try:
            with transaction.atomic():
                campaign = AttestationCampaign.objects.create(
                    subject=subject,
                    policy_version=policy_version,
                    ethics_approval=ethics_approval,
                    framework_change=framework_change,
                    title=title,
                    summary=summary,
                    statement=statement,
                    roles=sorted(settings["attestation_roles"]),
                    started_at=now,
                    started_by=by,
                    due_on=timezone.localdate(now) + timedelta(days=settings["attestation_days"]),
                )
        except IntegrityError as exc:
            raise ValidationError(
                "This publication already has its campaign.", code=CONFLICT
            ) from exc
    held, _, users = sel.people_in_roles(campaign.roles)
    for uid in held:
        notification_queue(
            key=f"attest-request:{campaign.pk}:{uid}",
            kind=Kind.ATTESTATION_REQUESTED,
            recipient=users[uid],
            subject=campaign,
            context={"due": campaign.due_on.isoformat()},
        )
    return campaign


def attestation_refusal(campaign: AttestationCampaign, user: User) -> str | None:
    """Why ``user`` may not acknowledge ``campaign`` now, or None."""
    error = _attestation_error(campaign, user)
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return None if error is None else str(error)


def _attestation_error(
    campaign: AttestationCampaign, user: User
) -> PermissionDenied | ValidationError | None:
    if not user.is_authenticated or not has_any_role(user):
        return PermissionDenied("You need a governance role to acknowledge.")
    if not user_roles(user) & set(campaign.roles):
        return PermissionDenied(
            f"This attestation is for the roles {campaign.role_labels()}; you hold none of them."
        )
    if not sel.campaign_is_current(campaign):
        return ValidationError(
            "A newer publication supersedes this one: acknowledge the current one instead.",
            code=CONFLICT,
        )
    if Attestation.objects.filter(campaign=campaign, user=user).exists():
        return ValidationError("You have already acknowledged this.", code=CONFLICT)
    return None


def attestation_acknowledge(
    *, campaign: AttestationCampaign, by: User, confirmed: bool, via_token: bool = False
) -> Attestation:
    """Record that ``by`` read and acknowledges the campaign's statement (ticked by
    them, in the browser). PermissionDenied: not in its roles, or an API token;
    ValidationError: not ticked, superseded, or already acknowledged."""
    if via_token:
        raise PermissionDenied("Acknowledge in the browser, after reading what was published.")
    error = _attestation_error(campaign, by)
    if error is not None:
        raise error
    if not confirmed:
        raise ValidationError({"confirmed": ["Tick the statement to acknowledge it."]})
    with audit_context(actor=by, reason=f"Acknowledged {campaign.title}."):
        try:
            with transaction.atomic():
                attestation = Attestation.objects.create(
                    campaign=campaign,
                    user=by,
                    at=timezone.now(),
                    statement_sha256=campaign.statement_sha256,
                )
        except IntegrityError as exc:
            raise ValidationError("You have already acknowledged this.", code=CONFLICT) from exc
    signer_refusal_forget(by)
    return attestation


# --- training --------------------------------------------------------------------------------


def _parse_answers(module: TrainingModule, answers: Mapping[str, Any]) -> dict[int, int]:
    parsed: dict[int, int] = {}
    missing = []
    for i, question in enumerate(module.questions):
        raw = answers.get(str(i))
        try:
            value = int(str(raw))
        except (TypeError, ValueError):
            missing.append(i + 1)
            continue
        if not 0 <= value < len(question["choices"]):
            missing.append(i + 1)
            continue
        parsed[i] = value
    if missing:
        numbers = ", ".join(map(str, missing))
        raise ValidationError({"answers": [f"Answer every question (missing: {numbers})."]})
    return parsed


def training_submit(
    *, module: TrainingModule, by: User, answers: Mapping[str, Any]
) -> TrainingCompletion:
    """Mark ``by``'s answers to the module's knowledge check and record the attempt; a
    pass (every answer right) counts for the module's validity. After
    ``MAX_FAILED_ATTEMPTS`` failures within an hour the check is refused until the hour
    is over (read the module again). Nothing is written on a refusal."""
    if not by.is_authenticated or not has_any_role(by):
        raise PermissionDenied("You need a governance role to take the training.")
    if not module.active:
        raise ValidationError("This module is withdrawn; it cannot be taken.")
    parsed = _parse_answers(module, answers)
    result = er.quiz_score(module.questions, parsed)
    signer_refusal_forget(by)
    # Counting the failures and recording this attempt are one step under a per-user
    # lock (the UPDATE takes the row lock on PostgreSQL, the write lock on SQLite), so
    # parallel submissions cannot try more answers than the limit.
    with transaction.atomic():
        User.objects.filter(pk=by.pk).update(is_active=F("is_active"))
        now = timezone.now()
        recent = sel.attempts_for(by, module).filter(passed=False, at__gte=now - ATTEMPT_WINDOW)
        if recent.count() >= MAX_FAILED_ATTEMPTS:
            first = recent.order_by("at").first()
            retry = timezone.localtime(first.at + ATTEMPT_WINDOW)
            raise ValidationError(
                f"{MAX_FAILED_ATTEMPTS} attempts did not pass in the last hour: read the "
                f"module again and try after {retry:%H:%M}."
            )
        return _attempt_record(module, by, now, result, parsed)


def _attempt_record(module, by, now, result, parsed) -> TrainingCompletion:
    with audit_context(actor=by, reason=f"Knowledge check of {module.title}."):
        return TrainingCompletion.objects.create(
            module=module,
            module_version=module.version,
            user=by,
            at=now,
            passed=result.passed,
            correct=result.correct,
            total=result.total,
            answers=[parsed[i] for i in range(len(module.questions))],
            expires_on=(timezone.localdate(now) + timedelta(days=module.validity_days))
            if result.passed
            else None,
        )


@transaction.atomic
def training_module_save(*, data: Mapping[str, Any], by: User, module: TrainingModule | None):
    """Create or edit a module (governance leads, in the admin site): the content is
    checked (``core.engagement_rules.validate_module``); a change of text or questions
    raises its version."""
    from accounts.permissions import is_governance_lead

    if not is_governance_lead(by):
        raise PermissionDenied("Only a governance lead edits training modules.")
    today = timezone.localdate()
    before = (
        TrainingModule.objects.filter(pk=module.pk).values("roles", "active").first()
        if module is not None and module.pk
        else None
    )
    module = module or TrainingModule()
    for name in (
        "code",
        "title",
        "summary",
        "roles",
        "validity_days",
        "sections",
        "questions",
        "required_from",
        "active",
        "order",
    ):
        if name in data:
            setattr(module, name, data[name])
    if before is None and module.required_from and module.required_from < today:
        raise ValidationError(
            {"required_from": ["A new module is required from today or a later day."]}
        )
    if before is not None and (
        set(module.roles) - set(before["roles"]) or (module.active and not before["active"])
    ):
        # Newly required of some people: their grace days start now, not in the past.
        module.required_from = max(module.required_from, today)
    module.full_clean()
    with audit_context(actor=by, reason=f"Training module {module.code} edited."):
        module.save()
    return module


# --- reminders and escalation ----------------------------------------------------------------


def _leads() -> list[User]:
    return list(
        User.objects.filter(Q(groups__name=Role.GOVERNANCE_LEAD) | Q(is_superuser=True))
        .filter(is_active=True)
        .exclude(email="")
        .distinct()
    )


def engagement_remind(*, on: date | None = None) -> dict[str, int]:
    """The daily pass: remind people of an attestation due within
    ``ATTESTATION_REMIND_DAYS`` (once) and when it lapsed (once); escalate the lapsed to
    the governance leads (once a week while anyone is lapsed); remind people of a
    training due or expiring within ``TRAINING_REMIND_DAYS`` and when it lapsed (once
    per due date). Idempotent: the outbox keys make each e-mail once."""
    day = on or sel.today()
    counts = {"reminders": 0, "escalations": 0, "training": 0}
    week = f"{day.isocalendar().year}-w{day.isocalendar().week}"
    for campaign in sel.campaigns_current():
        held, _, users = sel.people_in_roles(campaign.roles)
        done = set(Attestation.objects.filter(campaign=campaign).values_list("user_id", flat=True))
        starts = sel.starts_of(users)
        lapsed = []
        for uid in sorted(set(held) - done):
            due = sel.personal_due(campaign, starts[uid])
            state = er.attestation_state(due_on=due, acknowledged=False, today=day)
            if state == er.LAPSED:
                lapsed.append(users[uid])
                key = f"attest-lapsed:{campaign.pk}:{uid}"
            elif (due - day).days <= er.ATTESTATION_REMIND_DAYS:
                key = f"attest-remind:{campaign.pk}:{uid}"
            else:
                continue
            counts["reminders"] += _queued(
                key=key,
                kind=Kind.ATTESTATION_REMINDER,
                recipient=users[uid],
                subject=campaign,
                context={"due": due.isoformat(), "lapsed": state == er.LAPSED},
            )
        if lapsed:
            names = [u.get_full_name() or u.get_username() for u in lapsed]
            people = names[:ESCALATION_NAMES]
            if len(names) > ESCALATION_NAMES:
                people.append(f"and {len(names) - ESCALATION_NAMES} more (see the campaign page)")
            for lead in _leads():
                counts["escalations"] += _queued(
                    key=f"attest-escalate:{campaign.pk}:{lead.pk}:{week}",
                    kind=Kind.ATTESTATION_ESCALATED,
                    recipient=lead,
                    subject=campaign,
                    context={"due": campaign.due_on.isoformat(), "people": people},
                )
    counts["training"] = _training_remind(day)
    return counts


def _training_remind(day: date) -> int:
    sent = 0
    grace = policy_engagement()["training_grace_days"]
    for module in sel.module_list():
        held, _, users = sel.people_in_roles(module.roles)
        starts = sel.starts_of(users)
        expires = dict(
            TrainingCompletion.objects.filter(module=module, passed=True, user_id__in=list(held))
            .values("user_id")
            .annotate(e=Max("expires_on"))
            .values_list("user_id", "e")
        )
        for uid in held:
            user = users[uid]
            status = er.training_status(
                applies_from=sel.applies_from(module, starts[uid]),
                grace_days=grace,
                expires_on=expires.get(uid),
                today=day,
            )
            soon = (status.due_on - day).days <= er.TRAINING_REMIND_DAYS
            if status.state == er.DONE and not soon:
                continue
            if status.state == er.DUE and not soon:
                continue
            sent += _queued(
                key=f"training:{module.pk}:{uid}:{status.due_on.isoformat()}:{status.state}",
                kind=Kind.TRAINING_DUE,
                recipient=user,
                subject=module,
                context={"due": status.due_on.isoformat(), "state": status.state},
            )
    return sent


def _queued(**kwargs) -> int:
    if Notification.objects.filter(key=kwargs["key"]).exists():
        return 0
    return 1 if notification_queue(**kwargs) is not None else 0
