"""Writes of findings management (issue 16): opening a finding (severity, due date from
the policy, owner from the RACI), the remediation plan and its actions, remediation,
the second line's verification, closing, re-grading and re-assigning, the nightly
re-opening of findings whose risk acceptance expired, and the overdue escalation
through the outbox.

Each move is checked by ``reviews.selectors.findings.finding_move_refusal`` under a row
lock, recorded as a ``FindingEvent`` and an audit event, in one transaction; a refusal
is a PermissionDenied (who) or a ValidationError (what), and writes nothing. Risk
acceptance, a signed act, is ``reviews.services.acceptance``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import SECOND_LINE, Role
from audit.services import audit_record
from core import finding_rules as fr
from governance.selectors.policy import policy_finding_rules, policy_published_latest
from governance.selectors.raci import raci_accountable_for
from inventory.models import ModelVersion
from notifications.models import Notification
from notifications.services import notification_queue
from reviews import permissions
from reviews.models import Finding, FindingEvent, RemediationAction
from reviews.selectors import findings as sel

MAX_ACTIONS = 20
# Days past the due date after which an unresolved finding is escalated to the
# model-acceptance Accountable and the governance leads (its owner is told on the day).
ESCALATE_AFTER_DAYS = 7


def finding_event(
    finding: Finding,
    action: str,
    *,
    by: User | None,
    before: str = "",
    note: str = "",
    detail: dict[str, Any] | None = None,
    audited: bool = True,
) -> FindingEvent:
    """Record a move or change of a finding (and, unless the caller audits it itself,
    its audit event)."""
    event = FindingEvent.objects.create(
        finding=finding,
        action=action,
        at=timezone.now(),
        by=by,
        from_status=before,
        to_status=finding.status if before else "",
        note=note,
        detail=detail or {},
    )
    if not audited:
        return event
    changes: dict[str, Any] = {"status": [before, finding.status]} if before else {}
    changes.update({k: list(v) for k, v in (detail or {}).items() if isinstance(v, tuple)})
    audit_record(
        action=f"finding.{action}",
        obj=finding,
        actor=by,
        reason=note[:2000],
        changes=changes,
        parent=finding.model_version,
    )
    return event


def _locked(finding: Finding) -> Finding:
    return (
        Finding.objects.select_for_update(of=("self",))
        .select_related("validation", "model_version__model__use_case__team", "owner")
        .get(pk=finding.pk)
    )


def _move_check(finding: Finding, by: User, target: str) -> None:
    """PermissionDenied when ``by`` may never make this move; ValidationError when the
    finding's status does not allow it."""
    why = sel.finding_who_refusal(by, finding, target)
    if why:
        raise PermissionDenied(why)
    why = fr.transition_refusal(finding.status, target)
    if why:
        raise ValidationError(why)


def _note(text: str, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


# --- Opening -----------------------------------------------------------------------------


@transaction.atomic
def finding_open(
    *,
    version: ModelVersion,
    by: User | None,
    title: str,
    source: str = Finding.Source.MANUAL,
    severity: str = "",
    detail: dict | None = None,
    key: str = "",
) -> tuple[Finding, bool]:
    """Open a finding on a version (``by`` None: an automated source). PermissionDenied
    for anyone who may not (the second line, or the model's team); the rest is
    ``finding_create``. Returns (finding, created)."""
    if by is not None and not permissions.can_open_finding(by, version):
        raise PermissionDenied("You may not open findings on this version.")
    return finding_create(
        version=version,
        by=by,
        title=title,
        source=source,
        severity=severity,
        detail=detail,
        key=key,
    )


def finding_create(
    *,
    version: ModelVersion,
    by: User | None,
    title: str,
    source: str,
    severity: str = "",
    detail: dict | None = None,
    key: str = "",
    validation=None,
) -> tuple[Finding, bool]:
    """Create a finding, the caller having checked who opens it: its due date is the
    opening day plus the policy's days for its severity (medium when not given), its
    owner the RACI's (``finding_owner_default``). Automated sources pass a ``key`` so a
    re-run returns the finding it opened before (until that one is closed) instead of
    a second one. Runs in the caller's transaction. Returns (finding, created)."""
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the finding a title."
    severity = severity or fr.MEDIUM
    if severity not in fr.SEVERITY_RANK:
        errors["severity"] = f"Use one of {', '.join(fr.SEVERITIES)}."
    if source not in Finding.Source.values:
        errors["source"] = f"Use one of {', '.join(Finding.Source.values)}."
    if errors:
        raise ValidationError(errors)
    if key:
        existing = (
            Finding.objects.select_for_update(of=("self",))
            .filter(model_version=version, key=key)
            .exclude(status=fr.CLOSED)
            .first()
        )
        if existing and existing.status in (fr.REMEDIATED, fr.VERIFIED):
            # The source found it again: the remediation did not hold.
            _reopen(
                existing,
                timezone.localdate(),
                note=f"{existing.get_source_display()} found it again after its remediation.",
            )
        if existing:
            return existing, False
    now = timezone.now()
    finding = Finding.objects.create(
        model_version=version,
        source=source,
        severity=severity,
        title=title[:300],
        detail=detail or {},
        key=key,
        opened_by=by,
        opened_at=now,
        owner=sel.finding_owner_default(version, source),
        due_on=fr.due_on(timezone.localdate(now), policy_finding_rules()[severity]),
        policy_version=policy_published_latest(),
        validation=validation,
    )
    finding_event(
        finding,
        FindingEvent.Action.OPENED,
        by=by,
        note=title[:2000],
        detail={
            "severity": severity,
            "due_on": finding.due_on.isoformat(),
            "owner": finding.owner.get_username() if finding.owner else "",
        },
    )
    return finding, True


# --- The owner's side -----------------------------------------------------------------------


def _clean_actions(actions: Iterable[Mapping], due: date | None) -> list[dict]:
    actions = list(actions or [])
    if not actions:
        raise ValidationError({"actions": "Give at least one action with its date."})
    if len(actions) > MAX_ACTIONS:
        raise ValidationError({"actions": f"A plan has at most {MAX_ACTIONS} actions."})
    today, clean, problems = timezone.localdate(), [], []
    for n, action in enumerate(actions, start=1):
        text = str(action.get("text") or "").strip()
        when = action.get("due_on")
        if not text:
            problems.append(f"Action {n}: say what will be done.")
        if not isinstance(when, date):
            problems.append(f"Action {n}: give the date it will be done by.")
        elif when < today:
            problems.append(f"Action {n}: its date is in the past.")
        elif due is not None and due >= today and when > due:
            problems.append(
                f"Action {n}: its date is after the finding's due date ({due}); the plan "
                "must remediate it in time (or ask the second line to accept the risk)."
            )
        clean.append({"text": text[:500], "due_on": when})
    if problems:
        raise ValidationError({"actions": problems})
    return clean


@transaction.atomic
def finding_plan(*, finding: Finding, by: User, plan: str, actions: Iterable[Mapping]) -> Finding:
    """Record (or revise) the remediation plan: a summary and dated actions, each by the
    finding's due date. The actions not yet done are replaced; done ones are kept."""
    finding = _locked(finding)
    if not sel.is_owner_side(by, finding):
        _move_check(finding, by, fr.REMEDIATED)  # the owner's side's refusal, as a 403
    if finding.status not in (fr.OPEN, fr.PLANNED):
        raise ValidationError(
            f"The finding is {finding.get_status_display().lower()}: only an open or "
            "planned finding's plan is recorded."
        )
    _move_check(finding, by, fr.PLANNED)
    plan = _note(plan, "plan", "Say how the finding will be remediated.")
    clean = _clean_actions(actions, finding.due_on)
    before = finding.status
    RemediationAction.objects.filter(finding=finding, done_at__isnull=True).delete()
    start = finding.actions.count()
    RemediationAction.objects.bulk_create(
        RemediationAction(finding=finding, order=start + i, text=a["text"], due_on=a["due_on"])
        for i, a in enumerate(clean, start=1)
    )
    finding.remediation_plan = plan
    finding.status = fr.PLANNED
    finding.save(update_fields=["remediation_plan", "status"])
    finding_event(
        finding,
        FindingEvent.Action.PLANNED,
        by=by,
        before=before,
        note=plan,
        detail={"actions": [[a["text"], a["due_on"].isoformat()] for a in clean]},
    )
    return finding


@transaction.atomic
def remediation_action_done(*, action: RemediationAction, by: User, note: str = "") -> None:
    """Mark one action of the plan done (the owner's side, while the finding is
    planned)."""
    finding = _locked(Finding(pk=action.finding_id))
    action = RemediationAction.objects.select_for_update().filter(pk=action.pk).first()
    if action is None:
        raise ValidationError("This action is no longer in the plan (the plan was revised).")
    if not sel.is_owner_side(by, finding):
        raise PermissionDenied("The finding's owner or the model's team marks its actions done.")
    if finding.status != fr.PLANNED:
        raise ValidationError("Only the actions of a planned remediation are marked done.")
    if action.done_at is not None:
        raise ValidationError("This action is already done.")
    action.done_at, action.done_by, action.done_note = timezone.now(), by, (note or "")[:1000]
    action.save(update_fields=["done_at", "done_by", "done_note"])
    finding_event(
        finding,
        FindingEvent.Action.ACTION_DONE,
        by=by,
        note=action.text,
        detail={"action": action.pk},
    )


@transaction.atomic
def finding_remediate(*, finding: Finding, by: User, note: str) -> Finding:
    """Say the finding is remediated, and how (every action of the plan done first)."""
    finding = _locked(finding)
    _move_check(finding, by, fr.REMEDIATED)
    note = _note(note, "note", "Say what was done, and where the evidence is.")
    if finding.actions.filter(done_at__isnull=True).exists():
        raise ValidationError("Mark every action of the plan done first (or revise the plan).")
    return _remediated(finding, by, note)


def _remediated(finding: Finding, by: User, note: str) -> Finding:
    before = finding.status
    finding.status = fr.REMEDIATED
    finding.remediated_by, finding.remediated_at = by, timezone.now()
    finding.remediation_note = note
    finding.save(update_fields=["status", "remediated_by", "remediated_at", "remediation_note"])
    finding_event(finding, FindingEvent.Action.REMEDIATED, by=by, before=before, note=note)
    return finding


@transaction.atomic
def finding_remediated_by_source(*, finding: Finding, by: User, note: str) -> Finding | None:
    """The source itself says the problem is gone (a drift alert resolved): when the
    one who resolved it is on the owner's side and the plan has no action left, the
    finding is remediated by them and waits for the second line's verification (by
    someone else). None otherwise (the finding stays as it is; its owner remediates it
    on its page)."""
    finding = _locked(finding)
    if finding.status not in (fr.OPEN, fr.PLANNED) or not sel.is_owner_side(by, finding):
        return None
    if finding.actions.filter(done_at__isnull=True).exists():
        return None
    return _remediated(finding, by, note)


# --- The second line ---------------------------------------------------------------------


@transaction.atomic
def finding_verify(*, finding: Finding, by: User, note: str, accepted: bool = True) -> Finding:
    """The second line checks the remediation: verified, or (``accepted`` False) sent
    back to the plan with the reason. Never by the owner, the one who remediated it, or
    the model's developers."""
    finding = _locked(finding)
    target = fr.VERIFIED if accepted else fr.PLANNED
    _move_check(finding, by, fr.VERIFIED)  # who verifies, whatever the outcome
    if finding.status != fr.REMEDIATED:
        raise ValidationError(
            f"The finding is {finding.get_status_display().lower()}: only a remediated "
            "finding is verified."
        )
    note = _note(note, "note", "Say what was checked (or what is missing).")
    before = finding.status
    finding.status = target
    if accepted:
        finding.verified_by, finding.verified_at = by, timezone.now()
        finding.verification_note = note
        finding.save(update_fields=["status", "verified_by", "verified_at", "verification_note"])
        finding_event(finding, FindingEvent.Action.VERIFIED, by=by, before=before, note=note)
    else:
        finding.save(update_fields=["status"])
        finding_event(
            finding, FindingEvent.Action.VERIFICATION_REFUSED, by=by, before=before, note=note
        )
    return finding


@transaction.atomic
def finding_close(*, finding: Finding, by: User, note: str) -> Finding:
    """Close a verified finding (risk officers and governance leads)."""
    finding = _locked(finding)
    _move_check(finding, by, fr.CLOSED)
    note = _note(note, "note", "Say why the finding can be closed.")
    before = finding.status
    finding.status = fr.CLOSED
    finding.resolved_by, finding.resolved_at, finding.resolution = by, timezone.now(), note
    finding.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
    finding_event(finding, FindingEvent.Action.CLOSED, by=by, before=before, note=note)
    return finding


@transaction.atomic
def finding_set_severity(*, finding: Finding, by: User, severity: str, reason: str) -> Finding:
    """Re-grade a finding that is not closed (the second line): its due date becomes
    the opening day plus the policy's days for the new severity."""
    finding = _locked(finding)
    if not has_role(by, *SECOND_LINE):
        raise PermissionDenied("Only risk officers and governance leads re-grade findings.")
    why = sel.second_line_owner_refusal(by, finding, "re-grades")
    if why:
        raise PermissionDenied(why)
    if severity not in fr.SEVERITY_RANK:
        raise ValidationError({"severity": f"Use one of {', '.join(fr.SEVERITIES)}."})
    reason = _note(reason, "reason", "Say why the severity changes.")
    if finding.status == fr.CLOSED:
        raise ValidationError("The finding is closed; its severity is what it was.")
    if severity == finding.severity:
        raise ValidationError({"severity": f"The finding is already {severity}."})
    if finding.status == fr.ACCEPTED:
        raise ValidationError(
            "The finding's risk is accepted under its severity's rules; re-grade it once the "
            "acceptance has ended (or record a new acceptance)."
        )
    old, old_due = finding.severity, finding.due_on
    finding.severity = severity
    finding.due_on = fr.due_on(
        timezone.localdate(finding.opened_at), policy_finding_rules()[severity]
    )
    finding.policy_version = policy_published_latest()
    finding.save(update_fields=["severity", "due_on", "policy_version"])
    finding_event(
        finding,
        FindingEvent.Action.SEVERITY,
        by=by,
        note=reason,
        detail={
            "severity": (old, severity),
            "due_on": (old_due.isoformat() if old_due else "", finding.due_on.isoformat()),
        },
    )
    return finding


@transaction.atomic
def finding_set_owner(*, finding: Finding, by: User, owner: User, reason: str) -> Finding:
    """Hand a finding to another owner (the second line): a member of the use case's
    team or someone named in its RACI, active, holding a role."""
    finding = _locked(finding)
    if not has_role(by, *SECOND_LINE):
        raise PermissionDenied("Only risk officers and governance leads re-assign findings.")
    reason = _note(reason, "reason", "Say why the owner changes.")
    if finding.status == fr.CLOSED:
        raise ValidationError("The finding is closed.")
    use_case = finding.model_version.model.use_case
    eligible = (
        owner.is_active
        and has_role(owner, Role.DATA_SCIENTIST, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD)
        and (
            use_case.team.members.filter(pk=owner.pk).exists()
            or use_case.raci_assignments.filter(user=owner).exists()
        )
    )
    if not eligible:
        raise ValidationError(
            {"owner": "The owner is a member of the use case's team or named in its RACI."}
        )
    old = finding.owner
    finding.owner = owner
    finding.save(update_fields=["owner"])
    finding_event(
        finding,
        FindingEvent.Action.OWNER,
        by=by,
        note=reason,
        detail={"owner": (old.get_username() if old else "", owner.get_username())},
    )
    return finding


# --- Beat: expiry and escalation ------------------------------------------------------------


def findings_reopen_expired(*, today: date | None = None) -> int:
    """Open again every finding whose risk acceptance expired (each in its own
    transaction), with a new due date from today, and tell its owner. Returns how many."""
    today = today or timezone.localdate()
    done = 0
    for pk in list(sel.findings_acceptance_expired(today=today).values_list("pk", flat=True)):
        with transaction.atomic():
            finding = _locked(Finding(pk=pk))
            if sel.findings_acceptance_expired(today=today).filter(pk=pk).exists():
                _reopen(finding, today)
                done += 1
    return done


def _reopen(finding: Finding, today: date, note: str = "Its risk acceptance expired.") -> None:
    """Open the finding again with a new due date; a remediation and verification that
    did not hold are cleared from it (its events keep them)."""
    before = finding.status
    finding.status = fr.OPEN
    finding.due_on = fr.due_on(today, policy_finding_rules()[finding.severity])
    fields = ["status", "due_on"]
    if before in (fr.REMEDIATED, fr.VERIFIED):
        finding.remediated_by = finding.remediated_at = finding.verified_by = None
        finding.verified_at = None
        finding.remediation_note = finding.verification_note = ""
        fields += [
            "remediated_by",
            "remediated_at",
            "remediation_note",
            "verified_by",
            "verified_at",
            "verification_note",
        ]
    finding.save(update_fields=fields)
    finding_event(
        finding,
        FindingEvent.Action.REOPENED,
        by=None,
        before=before,
        note=note,
        detail={"due_on": finding.due_on.isoformat()},
    )
    if finding.owner:
        notification_queue(
            key=f"finding:{finding.pk}:reopened:{today.isoformat()}:user:{finding.owner_id}",
            kind=Notification.Kind.FINDING_REOPENED,
            recipient=finding.owner,
            subject=finding,
        )


def findings_escalate_overdue(*, today: date | None = None) -> dict[str, int]:
    """Tell the owner of every overdue finding (once per due date) and, past
    ``ESCALATE_AFTER_DAYS``, the use case's model-acceptance Accountable and the
    governance leads (once per due date, recorded as an event). Returns counts."""
    today = today or timezone.localdate()
    told = escalated = 0
    leads = list(User.objects.filter(groups__name=Role.GOVERNANCE_LEAD, is_active=True))
    for finding in sel.findings_overdue(today=today).order_by("pk"):
        due = finding.due_on.isoformat()
        if finding.owner:
            told += bool(
                notification_queue(
                    key=f"finding:{finding.pk}:overdue:{due}:user:{finding.owner_id}",
                    kind=Notification.Kind.FINDING_OVERDUE,
                    recipient=finding.owner,
                    subject=finding,
                    context={"due": due},
                )
            )
        if finding.due_on + timedelta(days=ESCALATE_AFTER_DAYS) > today:
            continue
        if finding.events.filter(action=FindingEvent.Action.ESCALATED, detail__due_on=due).exists():
            continue
        use_case = finding.model_version.model.use_case
        people = {
            u.pk: u for u in raci_accountable_for(use_case=use_case, task_code="model-acceptance")
        }
        people.update({u.pk: u for u in leads})
        with transaction.atomic():
            for user in people.values():
                notification_queue(
                    key=f"finding:{finding.pk}:escalated:{due}:user:{user.pk}",
                    kind=Notification.Kind.FINDING_ESCALATED,
                    recipient=user,
                    subject=finding,
                    context={"due": due},
                )
            finding_event(
                finding,
                FindingEvent.Action.ESCALATED,
                by=None,
                note=f"Overdue since {due}: escalated to {len(people)} people.",
                detail={"due_on": due, "to": sorted(u.get_username() for u in people.values())},
            )
        escalated += 1
    return {"told": told, "escalated": escalated}
