"""Reads of the sign-off workflow: the live state of a request (who may sign, what
blocks it, whether each signature still matches what was signed), pending approvals,
the gate log, periodic-review status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser, has_any_role, has_role
from core import promotion_rules as rules
from governance.models import Obligation
from governance.selectors.classification import classification_blocking
from governance.selectors.obligations import obligations_for_rules
from governance.selectors.raci import raci_people_for, raci_view
from inventory.models import ModelVersion, UseCase
from reviews.models import (
    BlockingWaiver,
    Finding,
    GateCall,
    PeriodicReview,
    PromotionRequest,
    Signature,
)

# --- Facts about a version -------------------------------------------------------------


def version_missing_fields(version: ModelVersion) -> list[str]:
    """Inventory fields a version must carry to leave development."""
    missing = []
    if not version.artifact_uri:
        missing.append(rules.REQUIRED_VERSION_FIELDS["artifact_uri"])
    if not version.artifact_sha256:
        missing.append(rules.REQUIRED_VERSION_FIELDS["artifact_sha256"])
    if not version.framework:
        missing.append(rules.REQUIRED_VERSION_FIELDS["framework"])
    if not version.training_dataset_id and not version.training_data_ref:
        missing.append(rules.REQUIRED_VERSION_FIELDS["training"])
    if not version.authors.exists():
        missing.append(rules.REQUIRED_VERSION_FIELDS["authors"])
    use_case = version.model.use_case
    if not use_case.is_classified:
        missing.append("risk classification of its use case")
    return missing


def active_obligations(use_case: UseCase) -> list[Obligation]:
    return list(
        Obligation.objects.filter(use_case=use_case, active=True)
        .select_related("consideration")
        .order_by("consideration__order")
    )


def open_findings(version: ModelVersion) -> QuerySet[Finding]:
    return Finding.objects.filter(model_version=version, status=Finding.Status.OPEN)


def finding_list(*, version: ModelVersion | None = None, status: str | None = None):
    qs = Finding.objects.select_related("model_version__model__use_case", "opened_by")
    if version is not None:
        qs = qs.filter(model_version=version)
    if status:
        qs = qs.filter(status=status)
    return qs


def eligible_by_slot(use_case: UseCase, slots: list[str]) -> dict[str, list[int]]:
    return {
        task: [u.pk for u in raci_people_for(use_case=use_case, task_code=task, letters="A")]
        for task in dict.fromkeys(slots)
    }


# --- The signing manifest ---------------------------------------------------------------


def signing_manifest(request: PromotionRequest) -> dict[str, Any]:
    """Exactly what a signature on this request binds to: the artifact, the move, the
    obligations' state with their evidence hashes, open findings and waivers. Any
    change to these makes earlier signatures stop counting."""
    version = request.model_version
    obligations = active_obligations(version.model.use_case)
    return {
        "request": request.pk,
        "model_version": version.pk,
        "version_label": version.version_label,
        "artifact_sha256": version.artifact_sha256,
        "kind": request.kind,
        "from": request.from_environment,
        "target": request.to_environment,
        "obligations": [
            {
                "key": o.consideration.code,
                "id": o.pk,
                "level": o.level,
                "status": o.status,
            }
            for o in obligations
        ],
        "evidence": [
            {
                "key": o.consideration.code,
                "sha256": o.evidence_sha256,
                "link": o.evidence_link,
            }
            for o in obligations
            if o.evidence_sha256 or o.evidence_link
        ],
        "findings": [
            {"key": f"#{f.pk}", "status": f.status, "title": f.title}
            for f in open_findings(version).order_by("pk")
        ],
        "waivers": [
            {"key": w.code, "by": w.by_id, "reason": w.reason}
            for w in BlockingWaiver.objects.filter(request=request).order_by("code")
        ],
    }


# --- The live state of a request ---------------------------------------------------------


@dataclass
class SignatureState:
    signature: Signature
    valid: bool
    reasons: list[str]


@dataclass
class BlockingState:
    item: rules.BlockingItem
    waiver: BlockingWaiver | None = None


@dataclass
class RequestState:
    request: PromotionRequest
    manifest: dict[str, Any]
    manifest_hash: str
    signatures: list[SignatureState]
    blocking: list[BlockingState]
    eligible: dict[str, list[User]]
    excluded: dict[int, str]
    tally: rules.Tally
    revocation: Signature | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def unwaived(self) -> list[BlockingState]:
        return [b for b in self.blocking if b.waiver is None]

    @property
    def approvable(self) -> bool:
        return not self.unwaived and self.tally.complete and self.tally.rejected_by is None

    def why_cannot_sign(self, user: AnyUser, meaning: str) -> str | None:
        """None when ``user`` may sign with ``meaning`` now, else the reason."""
        req = self.request
        if not user.is_authenticated or not has_any_role(user):
            return "You need a governance role to sign."
        if meaning == Signature.Meaning.REVOKED:
            if not has_role(user, "governance-lead"):
                return "Only a governance lead can revoke an approval."
            if req.status != PromotionRequest.Status.APPROVED:
                return "Only an approved request can have its approval revoked."
            return None
        if not req.is_pending:
            return (
                f"This request is {req.get_status_display().lower()}; it takes no more signatures."
            )
        if any(s.signature.signer_id == user.pk for s in self.signatures):
            return "You have already signed this request; nobody signs twice."
        if meaning == Signature.Meaning.REVIEWED:
            if user.pk == req.requested_by_id:
                return "The requester cannot review their own request."
            return None
        if user.pk in self.excluded:
            return f"You are {self.excluded[user.pk]}: segregation of duties forbids you to decide."
        if not self.slot_for(user):
            if meaning == Signature.Meaning.REJECTED and self._eligible_any(user):
                return None
            roles = ", ".join(rules.SLOT_LABELS.get(s, s) for s in self.tally.open_slots)
            if not self.tally.open_slots:
                return "Every required sign-off is already given."
            return f"Only the people Accountable for the open sign-offs can decide: {roles}."
        if meaning == Signature.Meaning.APPROVED and self.unwaived:
            return "Blocking items must be resolved or waived before anyone approves."
        return None

    def _eligible_any(self, user: AnyUser) -> bool:
        return any(user.pk in {u.pk for u in people} for people in self.eligible.values())

    def slot_for(self, user: AnyUser) -> str | None:
        """The first open slot the user is Accountable for."""
        for slot in self.tally.open_slots:
            if user.pk in {u.pk for u in self.eligible.get(slot, [])}:
                return slot
        return None


def signature_state(signature: Signature, current: dict[str, Any], current_hash: str):
    """Valid when the stored record is intact (its manifest hashes to its hash) and
    what it signed is still what the request is now."""
    if rules.manifest_hash(signature.manifest) != signature.manifest_hash:
        return SignatureState(
            signature, False, ["The stored signature record does not match its own hash."]
        )
    if signature.manifest_hash == current_hash:
        return SignatureState(signature, True, [])
    return SignatureState(signature, False, rules.manifest_differences(signature.manifest, current))


def _signatures(
    request: PromotionRequest, manifest: dict[str, Any], current_hash: str
) -> tuple[list[SignatureState], Signature | None]:
    """The decisions' signatures with their validity, and the revocation if any."""
    signatures = list(
        Signature.objects.filter(request=request)
        .select_related("signer")
        .order_by("signed_at", "id")
    )
    decision_sigs = [s for s in signatures if s.meaning != Signature.Meaning.REVOKED]
    states = [signature_state(s, manifest, current_hash) for s in decision_sigs]
    revocation = next((s for s in signatures if s.meaning == Signature.Meaning.REVOKED), None)
    return states, revocation


def _eligible_signers(
    request: PromotionRequest, version: ModelVersion, use_case: UseCase
) -> tuple[dict[str, list[User]], dict[int, str]]:
    """Who may fill each slot (the RACI Accountables, minus the excluded), and who is
    excluded by segregation of duties and why."""
    eligible_ids = eligible_by_slot(use_case, request.slots)
    people = {
        u.pk: u for u in User.objects.filter(pk__in={i for v in eligible_ids.values() for i in v})
    }
    excluded = rules.excluded_signers(
        requester_id=request.requested_by_id,
        author_ids=list(version.authors.values_list("pk", flat=True)),
        validator_id=version.validator_id,
    )
    eligible = {
        slot: [people[i] for i in ids if i not in excluded] for slot, ids in eligible_ids.items()
    }
    return eligible, excluded


def _blocking(
    request: PromotionRequest,
    version: ModelVersion,
    use_case: UseCase,
    eligible: dict[str, list[User]],
) -> list[BlockingState]:
    """What blocks the request, each with its waiver if one was given."""
    raci = raci_view(use_case=use_case)
    obligations = {
        o.consideration.code: {"level": o.level, "status": o.status}
        for o in active_obligations(use_case)
    }
    items = rules.blocking_items(
        kind=request.kind,
        target=request.to_environment,
        obligations=obligations,
        raci_problems=[v.message for v in raci.violations],
        open_findings=[{"id": f.pk, "title": f.title} for f in open_findings(version)],
        missing_fields=version_missing_fields(version),
        eligible_by_slot={slot: [u.pk for u in us] for slot, us in eligible.items()},
    )
    if request.kind == rules.PROMOTE:  # issue 12, item 4: facts and confirmation
        items += [
            rules.BlockingItem(*b)
            for b in classification_blocking(use_case, request.to_environment)
        ]
    waivers = {w.code: w for w in BlockingWaiver.objects.filter(request=request)}
    return [BlockingState(item, waivers.get(item.code)) for item in items]


def _tally(request: PromotionRequest, states: list[SignatureState]) -> rules.Tally:
    """The sign-offs given by signatures that still count, and the first rejection."""
    valid = [s for s in states if s.valid]
    approvals = [
        (s.signature.signer_id, s.signature.slot)
        for s in valid
        if s.signature.meaning == Signature.Meaning.APPROVED
    ]
    rejection = next(
        (
            s.signature.signer_id
            for s in states
            if s.signature.meaning == Signature.Meaning.REJECTED
        ),
        None,
    )
    return rules.tally(
        required=request.required_signoffs,
        slots=request.slots,
        approvals=approvals,
        rejection=rejection,
    )


def request_state(request: PromotionRequest) -> RequestState:
    version = request.model_version
    use_case = version.model.use_case
    manifest = signing_manifest(request)
    current_hash = rules.manifest_hash(manifest)
    states, revocation = _signatures(request, manifest, current_hash)
    eligible, excluded = _eligible_signers(request, version, use_case)
    blocking = _blocking(request, version, use_case, eligible)
    return RequestState(
        request=request,
        manifest=manifest,
        manifest_hash=current_hash,
        signatures=states,
        blocking=blocking,
        eligible=eligible,
        excluded=excluded,
        tally=_tally(request, states),
        revocation=revocation,
    )


# --- Lists --------------------------------------------------------------------------------


def request_list(*, user: AnyUser | None = None) -> QuerySet[PromotionRequest]:
    qs = PromotionRequest.objects.select_related(
        "model_version__model__use_case", "requested_by"
    ).order_by("-requested_at", "-id")
    return qs if has_any_role(user) else qs.none()


def request_get(*, pk: int, user: AnyUser) -> PromotionRequest:
    return request_list(user=user).get(pk=pk)


def pending_for(*, user: AnyUser) -> list[tuple[PromotionRequest, str]]:
    """Pending requests where the user is Accountable for an open sign-off slot and
    may sign it (not excluded, not yet signed): "my pending approvals"."""
    if not has_any_role(user):
        return []
    out = []
    for req in request_list(user=user).filter(status=PromotionRequest.Status.PENDING):
        state = request_state(req)
        slot = state.slot_for(user)
        if slot and state.why_cannot_sign(user, Signature.Meaning.REJECTED) is None:
            out.append((req, slot))
    return out


def gate_calls(*, allowed: bool | None = None, version_id: int | None = None):
    qs = GateCall.objects.select_related("caller", "model_version__model", "request")
    if allowed is not None:
        qs = qs.filter(allowed=allowed)
    if version_id:
        qs = qs.filter(model_version_id=version_id)
    return qs


def latest_approved(version: ModelVersion, environment: str) -> PromotionRequest | None:
    """The last request that took the version into ``environment`` and was approved
    (or approved then revoked: the gate must see the revocation)."""
    return (
        PromotionRequest.objects.filter(
            model_version=version,
            to_environment=environment,
            status__in=[PromotionRequest.Status.APPROVED, PromotionRequest.Status.REVOKED],
        )
        .order_by("-decided_at", "-id")
        .first()
    )


# --- Periodic review ------------------------------------------------------------------------


@dataclass
class ReviewStatus:
    interval_days: int | None
    last_review: PeriodicReview | None
    since: date | None
    due: date | None
    overdue_days: int
    grace_days: int

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def past_grace(self) -> bool:
        return self.overdue_days > self.grace_days


def review_interval_days(use_case: UseCase) -> int | None:
    """The periodic-review interval of the use case's audit obligation (policy, tightened
    by regulations), or None when no periodic review is owed."""
    params = obligations_for_rules(use_case=use_case).get("audit-documentation") or {}
    days = params.get("periodic_review_days")
    return int(days) if days else None


def review_status(version: ModelVersion, *, today: date | None = None) -> ReviewStatus:
    """When the version in production is due for its periodic review. The clock starts
    at the last signed review, or at the approval that put it in production."""
    today = today or timezone.now().date()
    grace = settings.PERIODIC_REVIEW_GRACE_DAYS
    interval = review_interval_days(version.model.use_case)
    last = PeriodicReview.objects.filter(model_version=version).order_by("-reviewed_at").first()
    since = None
    if last:
        since = last.reviewed_at.date()
    else:
        entered = latest_approved(version, "prod")
        if entered and entered.decided_at:
            since = entered.decided_at.date()
    if interval is None or since is None or version.environment != "prod":
        return ReviewStatus(interval, last, since, None, 0, grace)
    due = since + timedelta(days=interval)
    return ReviewStatus(interval, last, since, due, max(0, (today - due).days), grace)


def versions_in_production() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(environment="prod").select_related("model__use_case")


def requests_for_version(version: ModelVersion) -> QuerySet[PromotionRequest]:
    return PromotionRequest.objects.filter(model_version=version).select_related("requested_by")


def requests_waiting_since(*, days: int) -> QuerySet[PromotionRequest]:
    cutoff = timezone.now() - timedelta(days=days)
    return PromotionRequest.objects.filter(
        Q(status=PromotionRequest.Status.PENDING), requested_at__lte=cutoff
    ).select_related("model_version__model__use_case", "requested_by")
