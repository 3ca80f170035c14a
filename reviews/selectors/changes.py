"""Who made a change that voids a signature, and when: the page, the gate answer and
the gate log carry it. And what happened after a signature without changing what it
bound: findings opened after it (issue 12 item 8), reported as warnings."""

from datetime import timedelta
from typing import Any

from django.db.models import Q

from core.memo import memoized
from governance.models import ObligationEvent
from reviews.models import (
    BlockingWaiver,
    Finding,
    FindingAcceptance,
    FindingEvent,
    PromotionRequest,
    Signature,
    Validation,
)


@memoized
def _findings_of(version_id: int) -> dict[str, Finding]:
    """The version's findings by id (as the manifest keys them, without the "#"), read
    once per gate call or page (issue 13) rather than once per change."""
    return {
        str(f.pk): f
        for f in Finding.objects.filter(model_version_id=version_id).select_related(
            "opened_by", "resolved_by"
        )
    }


# The moves that take a finding out of the unresolved set a signature binds.
FINDING_LEAVES = (
    FindingEvent.Action.VERIFIED,
    FindingEvent.Action.ACCEPTED,
    FindingEvent.Action.CLOSED,
)


def _attribute_finding(out: dict[str, Any], finding: Finding, since) -> None:
    """The latest move after ``since`` that took the finding out of the unresolved
    set (verified, risk accepted, closed), else its closing, else its opening."""
    event = (
        FindingEvent.objects.filter(finding=finding, action__in=FINDING_LEAVES, at__gt=since)
        .select_related("by")
        .order_by("-at", "-id")
        .first()
    )
    if event is not None:
        when, who = event.at, event.by
    elif finding.resolved_at and finding.resolved_at > since:
        when, who = finding.resolved_at, finding.resolved_by
    else:
        when, who = finding.opened_at, finding.opened_by
    out["when"] = when.isoformat()
    out["by"] = who.get_username() if who else "system"


def attribute_change(change: dict[str, str], request: PromotionRequest, since) -> dict[str, Any]:
    """Who made a change that voids a signature, and when (the latest event after the
    signature on the obligation, finding, waiver, validation or risk acceptance
    concerned)."""
    out: dict[str, Any] = dict(change, when=None, by=None)
    version = request.model_version
    if change["what"] == "obligation":
        event = (
            ObligationEvent.objects.filter(
                obligation__use_case_id=version.model.use_case_id,
                obligation__consideration__code=change["key"],
                at__gt=since,
            )
            .filter(
                Q(obligation__model_version__isnull=True) | Q(obligation__model_version=version)
            )
            .select_related("by")
            .order_by("-at", "-id")
            .first()
        )
        if event:
            out["when"] = event.at.isoformat()
            out["by"] = event.by.get_username() if event.by else "system"
            out["event"] = event.kind
            if event.reason:
                out["why"] = event.reason
    elif change["what"] == "finding":
        finding = _findings_of(version.pk).get(str(change["key"]).lstrip("#"))
        if finding:
            _attribute_finding(out, finding, since)
    elif change["what"] == "validation":
        _attribute_validation(out, version, since)
    elif change["what"] == "acceptance":
        _attribute_acceptance(out, since)
    elif change["what"] == "waiver":
        waiver = BlockingWaiver.objects.filter(request=request, code=change["key"]).first()
        if waiver:
            out["when"], out["by"] = waiver.at.isoformat(), waiver.by.get_username()
    if out["when"]:
        what = out.get("event", "changed")
        out["message"] = f"{change['message']} ({what} on {out['when'][:16]} by {out['by']})"
    return out


def _attribute_validation(out: dict[str, Any], version, since) -> None:
    """A validation now counting was signed after the signature (by its validator); one
    that no longer counts was superseded by the first validation signed after it."""
    validation = Validation.objects.filter(pk=str(out["key"]).lstrip("#")).first()
    if validation is None or validation.signed_at is None:
        return
    if validation.signed_at <= since:
        validation = (
            Validation.objects.filter(model_version=version, signed_at__gt=since)
            .select_related("validator")
            .order_by("signed_at", "id")
            .first()
        )
        if validation is None:
            return
        out["event"] = f"superseded by validation #{validation.pk}"
    else:
        out["event"] = "signed"
    out["when"] = validation.signed_at.isoformat()
    out["by"] = validation.validator.get_username()


def _attribute_acceptance(out: dict[str, Any], since) -> None:
    """An acceptance given after the signature (by whom, when); one that expired (the
    day after its last day, by nobody: time did it)."""
    given = FindingAcceptance.objects.filter(pk=out.get("acceptance") or 0).first()
    if given is not None and given.accepted_at > since and given.pk != out.get("before"):
        out["when"] = given.accepted_at.isoformat()
        out["by"] = given.accepted_by.get_username()
        out["event"] = "accepted"
        return
    if given is not None:
        out["when"] = (given.expires_on + timedelta(days=1)).isoformat()
        out["by"] = "system"
        out["event"] = f"expired (accepted by {given.printed_name})"


# --- Findings opened after a signature ------------------------------------------------------

FINDING_OPENED_AFTER_APPROVAL = "finding-opened-after-approval"


def findings_opened_after(keys: list[str], version_id: int, since) -> list[Finding]:
    """Of the findings open now that a signature did not bind (``keys``, as the manifest
    keys them), those opened after it: they did not exist when it was given, so they are
    not a change to what it bound. A finding opened before (resolved at signing and open
    again) is not among them: its change voids the signature."""
    if not keys:
        return []
    rows = _findings_of(version_id)
    found = (rows.get(str(k).lstrip("#")) for k in keys)
    return [f for f in found if f is not None and f.opened_at > since]


def findings_opened_after_approval(request: PromotionRequest, states) -> list[dict[str, Any]]:
    """One warning per finding opened after an approval signature of ``request``
    (``SignatureState.later_findings``): what it is, its severity, when and by whom or
    what it was raised, and whose signatures it came after. It does not void them and
    blocks nothing by itself; the gate answer, its log and the request page show it."""
    seen: dict[int, tuple[Finding, list[str]]] = {}
    for state in states:
        if state.signature.meaning != Signature.Meaning.APPROVED:
            continue
        for finding in state.later_findings:
            seen.setdefault(finding.pk, (finding, []))[1].append(state.signature.printed_name)
    return [_later_finding_warning(f, names, request) for f, names in seen.values()]


def _later_finding_warning(finding: Finding, signers: list[str], request) -> dict[str, Any]:
    by = finding.opened_by.get_username() if finding.opened_by else "system"
    raised = f"by {by}" if finding.opened_by else f"by the system ({finding.get_source_display()})"
    # Findings are not graded yet (issue 16 adds a severity); none is said until they are.
    severity = getattr(finding, "severity", "") or None
    graded = f", severity {severity}" if severity else ""
    return {
        "code": FINDING_OPENED_AFTER_APPROVAL,
        "message": (
            f"Finding #{finding.pk} ({finding.get_source_display().lower()}{graded}) was "
            f"opened on {finding.opened_at:%Y-%m-%d %H:%M} UTC {raised}, after "
            f"{' and '.join(signers)} signed the approval of request #{request.pk}: "
            f"{finding.title.rstrip('.')}. It is not part of what they signed, so the "
            "approval stands."
        ),
        "finding": finding.pk,
        "title": finding.title,
        "source": finding.source,
        "severity": severity,
        "opened_at": finding.opened_at.isoformat(),
        "opened_by": by,
        "request": request.pk,
    }
