"""Reads of findings management (issue 16): who owns a finding, who may make which
move (and why not), what blocks a move of a version, the portfolio list, its ageing and
its CSV.

Segregation of duties, decided here for pages, API and services alike:
- the owner (or the model's team) plans and remediates;
- the second line verifies: a risk officer, a governance lead or a validator who is not
  the owner, did not remediate it and does not develop the model;
- risk officers and governance leads close a verified finding;
- the risk is accepted by the authority the policy names for the severity (or a higher
  one), outside the team that develops the model and not the validator who raised it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser, has_role
from accounts.roles import SECOND_LINE, VALIDATION_ROLES, Role
from core import finding_rules as fr
from governance.selectors.policy import policy_finding_rules
from governance.selectors.raci import raci_people_for, raci_use_cases_holding
from inventory.models import ModelVersion
from inventory.permissions import can_change_version
from reviews.models import Finding, FindingAcceptance, FindingEvent, RemediationAction
from reviews.selectors.independence import DEVELOPMENT_TASKS, developer_relation

VERIFIERS: tuple[str, ...] = (*SECOND_LINE, *VALIDATION_ROLES)
# The RACI task whose Accountable owns a finding of each source (default: modelling).
OWNER_TASK = {Finding.Source.MONITORING: "monitoring"}
AUTHORITY_ROLES = {"risk-officer": Role.RISK_OFFICER, "governance-lead": Role.GOVERNANCE_LEAD}
AUTHORITY_NAMES = {"risk-officer": "a risk officer", "governance-lead": "a governance lead"}


def finding_owner_default(version: ModelVersion, source: str) -> User | None:
    """The finding's owner from the use case's RACI: the Accountable for the task the
    source belongs to (monitoring for a drift alert, data modeling otherwise), else its
    Responsible, else the version's registrant."""
    use_case = version.model.use_case
    task = OWNER_TASK.get(source, "data-modeling")
    for letters in ("A", "R"):
        people = raci_people_for(use_case=use_case, task_code=task, letters=letters)
        if people:
            return people[0]
    return version.registered_by


def acceptance_current(finding: Finding, *, today: date | None = None):
    """The risk acceptance that counts for the finding today (not expired), or None."""
    today = today or timezone.localdate()
    return (
        FindingAcceptance.objects.filter(finding=finding, expires_on__gte=today)
        .select_related("accepted_by")
        .order_by("-expires_on", "-id")
        .first()
    )


def counting_q(today: date) -> Q:
    """Findings that count against a move today: unresolved, or accepted with every
    acceptance expired (before the nightly sweep opens them again)."""
    return Q(status__in=fr.UNRESOLVED) | (Q(status=fr.ACCEPTED) & ~_acceptance_counts(today))


def _acceptance_counts(today: date) -> Exists:
    """An acceptance of the outer finding still counts on ``today``."""
    return Exists(FindingAcceptance.objects.filter(finding=OuterRef("pk"), expires_on__gte=today))


def findings_counting(version: ModelVersion, *, today: date | None = None) -> QuerySet[Finding]:
    return Finding.objects.filter(model_version=version).filter(
        counting_q(today or timezone.localdate())
    )


def findings_blocking(
    version: ModelVersion, target: str, *, validation: bool, today: date | None = None
) -> list[Finding]:
    """The findings that block ``version`` entering ``target`` (validation findings, or
    the others), by severity as the policy says, in id order."""
    qs = findings_counting(version, today=today).filter(validation__isnull=not validation)
    rows = list(qs.order_by("pk"))
    if not rows:
        return []
    severity_rules = policy_finding_rules()
    return [f for f in rows if target in severity_rules[f.severity].blocks]


# --- Who may do what ---------------------------------------------------------------------


def is_owner_side(user: AnyUser, finding: Finding) -> bool:
    """The owner, or someone who may change the model (its team, a governance lead)."""
    if not user.is_authenticated:
        return False
    return user.pk == finding.owner_id or can_change_version(user, finding.model_version)


def was_owner(user: AnyUser, finding: Finding) -> bool:
    """Whether ``user`` owned the finding at some point (its opening or a hand-over):
    handing a finding to someone else does not make its former owner a verifier."""
    name = user.get_username()
    for detail in FindingEvent.objects.filter(
        finding=finding, action__in=[FindingEvent.Action.OPENED, FindingEvent.Action.OWNER]
    ).values_list("detail", flat=True):
        owners = (detail or {}).get("owner") or []
        if name in (owners if isinstance(owners, list) else [owners]):
            return True
    return False


def findings_to_verify(user: AnyUser, *, cap: int) -> tuple[list[Finding], bool]:
    """The remediated findings ``user`` may verify (``_verify_refusal``'s rules), oldest
    remediation first: at most ``cap`` of them, and whether there are more."""
    ids, more = _verifiable_ids(user, cap=cap)
    by_pk = finding_list().in_bulk(ids)
    return [by_pk[pk] for pk in ids if pk in by_pk], more


def findings_to_verify_shown(
    user: AnyUser, *, cap: int, shown: int
) -> tuple[list[Finding], int, bool]:
    """``findings_to_verify`` for a summary: the first ``shown`` as rows, how many (at
    most ``cap``) and whether there are more; only the rows shown are read whole (My
    work's cold path, issue 16: reading 100 findings with their joins cost most of it)."""
    ids, more = _verifiable_ids(user, cap=cap)
    by_pk = finding_list().in_bulk(ids[:shown])
    return [by_pk[pk] for pk in ids[:shown] if pk in by_pk], len(ids), more


def _verifiable_ids(user: AnyUser, *, cap: int) -> tuple[list[int], bool]:
    """The ids of the remediated findings ``user`` may verify (``_verify_refusal``'s rules, read
    set-based: a verifier's role; not the owner, a former owner or the remediator; not a
    developer of the model: its team, technical owner, registrant or authors, or
    Responsible or Accountable for a development task in the RACI), oldest remediation
    first: at most ``cap`` of them, and whether there are more. A constant number of
    queries whatever the portfolio."""
    if not user.is_authenticated or not has_role(user, *VERIFIERS):
        return [], False
    team_ids = set(user.teams.values_list("pk", flat=True))
    authored = set(
        ModelVersion.authors.through.objects.filter(user_id=user.pk).values_list(
            "modelversion_id", flat=True
        )
    )
    # The remediated findings are few (they wait for a verifier): read their facts as
    # values and apply the rules in Python, rather than a join per rule in SQL; the RACI
    # is read only for their use cases.
    rows = [
        (pk, use_case)
        for pk, owner, remediator, version, registrant, use_case, team, technical in (
            Finding.objects.filter(status=fr.REMEDIATED)
            .order_by("remediated_at", "pk")
            .values_list(
                "pk",
                "owner_id",
                "remediated_by_id",
                "model_version_id",
                "model_version__registered_by_id",
                "model_version__model__use_case_id",
                "model_version__model__use_case__team_id",
                "model_version__model__use_case__technical_owner_id",
            )
        )
        if user.pk not in (owner, remediator, registrant, technical)
        and team not in team_ids
        and version not in authored
    ]
    developing = raci_use_cases_holding(
        user=user, tasks=DEVELOPMENT_TASKS, use_case_ids={u for _, u in rows}, letters="AR"
    )
    candidates = [pk for pk, use_case in rows if use_case not in developing][: cap + 1]
    name = user.get_username()
    former = set()
    for finding_id, detail in FindingEvent.objects.filter(
        finding__in=candidates,
        action__in=[FindingEvent.Action.OPENED, FindingEvent.Action.OWNER],
    ).values_list("finding_id", "detail"):
        owners = (detail or {}).get("owner") or []
        if name in (owners if isinstance(owners, list) else [owners]):
            former.add(finding_id)
    mine = [pk for pk in candidates if pk not in former]
    return mine[:cap], len(candidates) > cap


def second_line_owner_refusal(user: AnyUser, finding: Finding, what: str) -> str | None:
    """Why ``user`` may not ``what`` (accept the risk of, re-grade) a finding they own
    or owned, or whose model they develop, or None."""
    if user.pk == finding.owner_id or was_owner(user, finding):
        return f"You own (or owned) this finding: someone else {what} it."
    relation = developer_relation(user, finding.model_version)
    if relation:
        return f"You are {relation}: someone outside the developing team {what} it."
    return None


def _verify_refusal(user: AnyUser, finding: Finding) -> str | None:
    if not user.is_authenticated or not has_role(user, *VERIFIERS):
        return (
            "A remediation is verified by the second line (a risk officer, a governance "
            "lead or a validator), not by those who remediate."
        )
    if user.pk == finding.owner_id or was_owner(user, finding):
        return "You own (or owned) this finding: its remediation is verified by someone else."
    if user.pk == finding.remediated_by_id:
        return "You marked this finding remediated: someone else verifies it."
    relation = developer_relation(user, finding.model_version)
    if relation:
        return f"You are {relation}: a remediation is verified from outside the developing team."
    return None


def finding_accept_refusal(user: AnyUser, finding: Finding) -> str | None:
    """Why ``user`` may not accept the finding's risk now, or None: the authority the
    policy names for its severity (or higher), outside the developing team, not the
    validator who raised it."""
    rule = policy_finding_rules()[finding.severity]
    need = rule.acceptance_authority
    held = [a for a, role in AUTHORITY_ROLES.items() if has_role(user, role)]
    if not user.is_authenticated or not held:
        if has_role(user, Role.DATA_SCIENTIST):
            return (
                "Data scientists develop models; the risk of a finding is accepted by the "
                "second line, never by the model's developers."
            )
        if has_role(user, *VALIDATION_ROLES):
            return "Validators raise findings; the second line accepts their risk."
        return "Only risk officers and governance leads accept the risk of a finding."
    if not fr.authority_suffices(held, need):
        return (
            f"The policy has the risk of a {finding.severity} finding accepted by "
            f"{AUTHORITY_NAMES[need]} or higher; you are not."
        )
    relation = developer_relation(user, finding.model_version)
    if relation:
        return (
            f"You are {relation}: the risk of a finding on a model is accepted by someone "
            "outside the team that develops it."
        )
    if user.pk == finding.owner_id or was_owner(user, finding):
        return "You own (or owned) this finding: someone else accepts its risk."
    if finding.validation_id and finding.validation.validator_id == user.pk:
        return "You raised this finding in your validation: someone else accepts its risk."
    return None


def finding_who_refusal(user: AnyUser, finding: Finding, target: str) -> str | None:
    """Why ``user`` may never move ``finding`` to ``target`` (whatever its status), or
    None: the owner's side plans and remediates, the second line verifies and closes,
    the policy's authority accepts."""
    if target == fr.REMEDIATED or (target == fr.PLANNED and finding.status != fr.REMEDIATED):
        if not is_owner_side(user, finding):
            owner = finding.owner.get_username() if finding.owner else "nobody yet"
            return (
                f"The finding's owner ({owner}) or the model's team plans and remediates "
                "it; the second line verifies."
            )
        return None
    if target == fr.ACCEPTED:
        return finding_accept_refusal(user, finding)
    if target == fr.CLOSED:
        if not has_role(user, *SECOND_LINE):
            return "Only risk officers and governance leads close findings."
        return None
    if target == fr.OPEN:
        return "The product opens a finding again when its risk acceptance expires."
    return _verify_refusal(user, finding)  # verified, or sent back to the plan


def finding_move_refusal(user: AnyUser, finding: Finding, target: str) -> str | None:
    """Why ``user`` may not move ``finding`` to ``target`` now (who first, then the
    flow), or None."""
    return finding_who_refusal(user, finding, target) or fr.transition_refusal(
        finding.status, target
    )


def finding_moves_for(user: AnyUser, finding: Finding) -> list[str]:
    """The statuses ``user`` may move the finding to now (for the page's buttons)."""
    return [
        target
        for (current, target), actor in fr.TRANSITIONS.items()
        if current == finding.status
        and actor != fr.SYSTEM
        and finding_move_refusal(user, finding, target) is None
    ]


def acceptance_manifest(
    finding: Finding, *, by_id: int, reason: str, expires_on: date
) -> dict[str, Any]:
    """What a risk acceptance's signature binds: the finding as it reads (with its
    severity), the validation that raised it, the version and its artifact, the reason
    and the expiry."""
    version = finding.model_version
    return {
        "finding": finding.pk,
        "title": finding.title,
        "severity": finding.severity,
        "validation": finding.validation_id,
        "model_version": version.pk,
        "version_label": version.version_label,
        "artifact_sha256": version.artifact_sha256,
        "accepted_by": by_id,
        "reason": reason,
        "expires_on": expires_on.isoformat(),
    }


# --- The portfolio's findings -----------------------------------------------------------


def finding_list() -> QuerySet[Finding]:
    return Finding.objects.select_related(
        "model_version__model__use_case__team",
        "opened_by",
        "owner",
        "resolved_by",
        "verified_by",
        "remediated_by",
    )


def finding_get(*, pk: int) -> Finding:
    return finding_list().select_related("validation", "verified_by", "remediated_by").get(pk=pk)


def finding_actions(finding: Finding) -> list[RemediationAction]:
    return list(finding.actions.select_related("done_by").order_by("order", "id"))


def finding_events(finding: Finding) -> list[FindingEvent]:
    return list(finding.events.select_related("by").order_by("at", "id"))


def finding_acceptances(finding: Finding) -> list[FindingAcceptance]:
    return list(
        finding.acceptances.select_related("accepted_by", "signature").order_by("-accepted_at")
    )


def findings_overdue(*, today: date | None = None) -> QuerySet[Finding]:
    today = today or timezone.localdate()
    return finding_list().filter(status__in=fr.UNRESOLVED, due_on__lt=today)


def findings_acceptance_expired(*, today: date | None = None) -> QuerySet[Finding]:
    """Findings whose status says accepted while no acceptance counts any more."""
    today = today or timezone.localdate()
    return Finding.objects.filter(status=fr.ACCEPTED).exclude(_acceptance_counts(today))


def findings_ageing(qs: QuerySet[Finding], *, today: date | None = None) -> dict:
    """{age bucket: {severity: count}} of the findings still to deal with in ``qs``
    (unresolved or accepted), aged from the day they were opened."""
    today = today or timezone.localdate()
    rows = qs.exclude(status__in=[fr.VERIFIED, fr.CLOSED]).values_list("severity", "opened_at")
    return fr.ageing((sev, (today - opened.date()).days) for sev, opened in rows)


def findings_summary(qs: QuerySet[Finding], *, today: date | None = None) -> dict[str, Any]:
    """Counts for the list's header: by status, by severity (of those not closed),
    overdue."""
    today = today or timezone.localdate()
    by_status = dict.fromkeys(fr.STATUSES, 0)
    by_severity = dict.fromkeys(fr.SEVERITIES, 0)
    overdue = 0
    for status, severity, due in qs.values_list("status", "severity", "due_on"):
        by_status[status] = by_status.get(status, 0) + 1
        if status != fr.CLOSED:
            by_severity[severity] = by_severity.get(severity, 0) + 1
        overdue += fr.is_overdue(status, due, today)
    return {"by_status": by_status, "by_severity": by_severity, "overdue": overdue}


CSV_COLUMNS = (
    "id",
    "use_case",
    "team",
    "model_version",
    "source",
    "severity",
    "status",
    "title",
    "owner",
    "opened_at",
    "due_on",
    "overdue",
    "age_days",
    "remediated_at",
    "verified_by",
    "verified_at",
    "closed_by",
    "closed_at",
)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def findings_csv(qs: Iterable[Finding], *, today: date | None = None) -> str:
    """The findings as CSV (one row each, the columns above), formula-safe."""
    today = today or timezone.localdate()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in qs:
        version = f.model_version
        writer.writerow(
            _csv_cell(v)
            for v in (
                f.pk,
                version.model.use_case.name,
                version.model.use_case.team.name,
                f"{version.model.name} {version.version_label}",
                f.get_source_display(),
                f.severity,
                f.status,
                f.title,
                f.owner.get_username() if f.owner else "",
                f.opened_at.isoformat(),
                f.due_on.isoformat() if f.due_on else "",
                "yes" if fr.is_overdue(f.status, f.due_on, today) else "no",
                (today - f.opened_at.date()).days,
                f.remediated_at.isoformat() if f.remediated_at else "",
                f.verified_by.get_username() if f.verified_by else "",
                f.verified_at.isoformat() if f.verified_at else "",
                f.resolved_by.get_username() if f.resolved_by else "",
                f.resolved_at.isoformat() if f.resolved_at else "",
            )
        )
    return out.getvalue()
