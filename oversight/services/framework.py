"""Writes of the framework review (issue 16, Step 8): a governance lead opens a review of
a period (its indicators and per-cell evidence frozen then), writes its conclusion,
adds policy change proposals linked to their evidence, makes each a policy draft
(through governance's own services; the draft is then published with four eyes, as
any), and signs the review with the password typed again. Signed, the review and its
proposals never change (the review's row is frozen in the database too:
``OversightConfig.ready``).

Every refusal raises before anything is written: PermissionDenied for who, a
ValidationError for what.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import is_governance_lead
from accounts.roles import Role
from accounts.sso.signing import Credential
from audit.services import audit_record
from core import policy_rules
from governance.models import Consideration, PolicyVersion
from governance.selectors.policy import policy_default, policy_draft
from governance.selectors.signers import signer_refusal
from governance.services.policy import policy_cells_set, policy_draft_create
from governance.services.signing import password_reconfirm, reauthentication_record
from inventory.choices import RiskTier
from notifications.models import Notification
from notifications.services import notification_queue
from oversight.models import FrameworkReview, PolicyChangeProposal
from oversight.selectors import framework as sel
from oversight.services.snapshots import governance_leads

MAX_PERIOD_DAYS = 3 * 366
SIGN_MEANING = "Framework review concluded and signed"


def _require_lead(user: User, what: str) -> None:
    if not is_governance_lead(user):
        raise PermissionDenied(f"Only a governance lead may {what}.")


def _require_draft(review: FrameworkReview) -> FrameworkReview:
    """The review, locked and re-read; a signed one is refused."""
    review = FrameworkReview.objects.select_for_update().get(pk=review.pk)
    if review.is_signed:
        raise ValidationError("This framework review is signed: it can no longer be changed.")
    return review


@transaction.atomic
def framework_review_create(*, by: User, period_start: date, period_end: date) -> FrameworkReview:
    """Open a review of the period, freezing its indicators (from the daily snapshots)
    and its waivers and findings per policy cell.

    Raises PermissionDenied for anyone but a governance lead; ValidationError for a
    period that ends before it starts, ends in the future or spans over three years.
    """
    _require_lead(by, "open a framework review")
    today = timezone.localdate()
    if period_end < period_start:
        raise ValidationError({"period_end": "The period ends before it starts."})
    if period_end > today:
        raise ValidationError({"period_end": "The period cannot end after today."})
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"period_start": "A review covers three years at most."})
    review = FrameworkReview(
        period_start=period_start,
        period_end=period_end,
        indicators=sel.period_indicators(start=period_start, end=period_end),
        cells=sel.policy_cell_evidence(start=period_start, end=period_end),
        created_by=by,
        created_at=timezone.now(),
    )
    review.full_clean()
    review.save()
    audit_record(action="framework_review.created", obj=review, actor=by)
    return review


@transaction.atomic
def framework_review_conclude(
    *, review: FrameworkReview, by: User, conclusion: str
) -> FrameworkReview:
    """Write the review's conclusion. Raises PermissionDenied (not a lead),
    ValidationError (signed, or an empty conclusion)."""
    _require_lead(by, "write a framework review's conclusion")
    review = _require_draft(review)
    conclusion = conclusion.strip()
    if not conclusion:
        raise ValidationError({"conclusion": "Write the conclusion."})
    before = review.conclusion
    review.conclusion = conclusion
    review.full_clean()
    review.save(update_fields=["conclusion"])
    audit_record(
        action="framework_review.concluded",
        obj=review,
        actor=by,
        changes={"conclusion": [before, conclusion]},
    )
    return review


def _proposal_errors(tier: int, consideration: str, level: str, rationale: str) -> dict:
    errors: dict[str, str] = {}
    if tier not in RiskTier.values:
        errors["tier"] = f"Unknown risk tier {tier!r}."
    if not Consideration.objects.filter(code=consideration).exists():
        errors["consideration"] = f"Unknown consideration {consideration!r}."
    if level not in policy_rules.LEVEL_RANK:
        errors["proposed_level"] = f"Use one of {', '.join(policy_rules.LEVELS)}."
    if not rationale.strip():
        errors["rationale"] = "Say why the cell should change."
    return errors


@transaction.atomic
def proposal_add(
    *,
    review: FrameworkReview,
    by: User,
    tier: int,
    consideration: str,
    proposed_level: str,
    rationale: str,
    evidence: list[dict[str, Any]] | None = None,
) -> PolicyChangeProposal:
    """Propose a new measure level for one policy cell, with the evidence behind it.
    Raises PermissionDenied (not a lead), ValidationError (signed review, unknown cell
    or level, no rationale, evidence naming nothing that exists)."""
    _require_lead(by, "propose a policy change")
    review = _require_draft(review)
    evidence = list(evidence or [])
    errors = _proposal_errors(tier, consideration, proposed_level, rationale)
    evidence_problems = sel.evidence_errors(evidence)
    if evidence_problems:
        errors["evidence"] = " ".join(evidence_problems)
    if errors:
        raise ValidationError(errors)
    proposal = PolicyChangeProposal(
        review=review,
        tier=tier,
        consideration=Consideration.objects.get(code=consideration),
        proposed_level=proposed_level,
        rationale=rationale.strip(),
        evidence=evidence,
        created_by=by,
        created_at=timezone.now(),
    )
    proposal.full_clean()
    proposal.save()
    audit_record(
        action="framework_review.proposal_added",
        obj=proposal,
        actor=by,
        parent=review,
        changes={"cell": [None, f"{tier} x {consideration}"], "level": [None, proposed_level]},
    )
    return proposal


@transaction.atomic
def proposal_make_draft(*, proposal: PolicyChangeProposal, by: User) -> PolicyVersion:
    """Apply the proposal to the policy's draft (started from the latest published
    version when there is none), through governance's services; the draft is then
    published with four eyes on the policy page. Raises PermissionDenied (not a lead),
    ValidationError (signed review, proposal already drafted, no policy)."""
    _require_lead(by, "make a policy draft")
    _require_draft(proposal.review)
    proposal = PolicyChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.policy_draft_id:
        raise ValidationError("This proposal is already in a policy draft.")
    policy = policy_default()
    if policy is None:
        raise ValidationError("There is no policy to draft.")
    draft = policy_draft(policy=policy) or policy_draft_create(policy=policy, by=by)
    policy_cells_set(
        version=draft,
        cells={(proposal.tier, proposal.consideration.code): proposal.proposed_level},
        by=by,
    )
    proposal.policy_draft = draft
    proposal.save(update_fields=["policy_draft"])
    audit_record(
        action="framework_review.proposal_drafted",
        obj=proposal,
        actor=by,
        parent=proposal.review,
        changes={"policy_draft": [None, draft.pk]},
    )
    return draft


def framework_review_sign_refusal(user: User, review: FrameworkReview) -> str | None:
    """Why ``user`` may not sign ``review`` now, or None."""
    if not is_governance_lead(user):
        return "Only a governance lead may sign a framework review."
    if review.is_signed:
        return "This framework review is already signed."
    if not review.conclusion.strip():
        return "Write the review's conclusion before signing it."
    return signer_refusal(user)  # a lapsed attestation or training, when the policy says so


def framework_review_sign(
    *, review: FrameworkReview, by: User, password: Credential, via_token: bool = False
) -> FrameworkReview:
    """Sign the review with the password typed again (``password_reconfirm``: a token
    cannot sign). Raises PermissionDenied (not a lead, a token, signing locked),
    ValidationError (signed already, no conclusion, wrong password: recorded as a
    refused signature, nothing else written)."""
    review = FrameworkReview.objects.get(pk=review.pk)
    why = framework_review_sign_refusal(by, review)
    # A lapsed signer is refused (and recorded) by password_reconfirm, before any password.
    if why and why != signer_refusal(by):
        if not is_governance_lead(by):
            raise PermissionDenied(why)
        raise ValidationError(why)
    reauth = password_reconfirm(
        user=by, password=password, what=f"sign framework review #{review.pk}", via_token=via_token
    )
    with transaction.atomic():
        review = _require_draft(review)
        if not review.conclusion.strip():
            raise ValidationError("Write the review's conclusion before signing it.")
        review.status = FrameworkReview.Status.SIGNED
        review.signed_by = by
        review.signed_at = timezone.now()
        review.signature_meaning = SIGN_MEANING
        review.full_clean()
        review.save(update_fields=["status", "signed_by", "signed_at", "signature_meaning"])
        audit_record(
            action="framework_review.signed",
            obj=review,
            actor=by,
            changes={"status": [FrameworkReview.Status.DRAFT, FrameworkReview.Status.SIGNED]},
        )
        reauthentication_record(reauth, obj=review, by=by)
    return review


def framework_review_due_notify(*, today: date | None = None) -> int:
    """When no review was signed within ``FRAMEWORK_REVIEW_INTERVAL_DAYS``, e-mail every
    governance lead once (until a review is signed: the outbox key names the last signed
    one). Returns how many e-mails were queued now or before."""
    today = today or timezone.localdate()
    if not sel.framework_review_due(today=today):
        return 0
    last = sel.framework_review_last_signed()
    since = f"after:{last.pk}" if last else "never"
    sent = 0
    with transaction.atomic():
        for lead in governance_leads():
            sent += bool(
                notification_queue(
                    key=f"framework-review-due:{since}:user:{lead.pk}",
                    kind=Notification.Kind.FRAMEWORK_REVIEW_DUE,
                    recipient=lead,
                    subject=lead,
                    context={
                        "last_signed": last.signed_at.date().isoformat() if last else "",
                        "today": today.isoformat(),
                        "role": Role.GOVERNANCE_LEAD,
                    },
                )
            )
    return sent


def default_period(today: date | None = None) -> tuple[date, date]:
    """A new review's default period: the last twelve months to today."""
    today = today or timezone.localdate()
    return today - timedelta(days=364), today
