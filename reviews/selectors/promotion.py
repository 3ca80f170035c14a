"""Reads of the sign-off workflow: the live state of a request (who may sign, what
blocks it, whether each signature still matches what was signed), pending approvals,
the gate log, periodic-review status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser, has_any_role, has_role
from accounts.roles import SIGNING_ROLES, SIGNING_TASK_ROLES, Role, role_names
from core import finding_rules as fr
from core import promotion_rules as rules
from core.memo import memoized
from governance.models import Obligation
from governance.selectors.classification import classification_blocking
from governance.selectors.ethics import ethics_blocking
from governance.selectors.obligations import (
    obligation_list,
    obligations_gating_move,
    version_obligations_for_gate,
)
from governance.selectors.raci import raci_people_for, raci_view
from governance.selectors.signers import signer_refusal
from inventory.models import ModelVersion, UseCase
from reviews.models import (
    BlockingWaiver,
    Finding,
    GateCall,
    PromotionRequest,
    Signature,
    SignatureVoiding,
)
from reviews.selectors import validation as validation_sel
from reviews.selectors.changes import (
    attribute_change,
    findings_opened_after,
    findings_opened_after_approval,
)
from reviews.selectors.findings import findings_blocking
from reviews.selectors.periodic import (  # noqa: F401  (moved there; read as sel.* too)
    ReviewStatus,
    latest_approved,
    review_interval_days,
    review_status,
    review_status_from,
    versions_in_production,
)

# --- Facts about a version -------------------------------------------------------------


@memoized
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


def active_obligations(use_case: UseCase, version: ModelVersion | None = None) -> list[Obligation]:
    """The active obligations of a use case, or (with ``version``) what that version
    owes: the use case's use-case-scope ones and its own."""
    if version is not None:
        return list(obligation_list(version=version))
    return list(
        Obligation.objects.filter(use_case=use_case, active=True)
        .select_related("consideration")
        .order_by("consideration__order", "model_version_id")
    )


def open_findings(version: ModelVersion) -> QuerySet[Finding]:
    """The version's findings that are neither verified nor closed (open, planned,
    remediated, or their risk accepted): what a signature binds as "open", as it did
    before findings had a flow (progress through the plan changes nothing it binds; a
    verification or a closing does; a validation finding's acceptance is bound on its
    own)."""
    return Finding.objects.filter(model_version=version).exclude(
        status__in=[fr.VERIFIED, fr.CLOSED]
    )


def eligible_by_slot(use_case: UseCase, slots: list[str]) -> dict[str, list[int]]:
    return {
        task: [u.pk for u in raci_people_for(use_case=use_case, task_code=task, letters="A")]
        for task in dict.fromkeys(slots)
    }


# --- The signing manifest ---------------------------------------------------------------


def gating_obligations(request: PromotionRequest) -> list[dict[str, Any]]:
    """The obligations that gate the request's move (none for a withdrawal)."""
    if request.kind != rules.PROMOTE:
        return []
    return obligations_gating_move(
        version=request.model_version, environment=request.to_environment
    )


def signing_manifest(
    request: PromotionRequest, gating: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Exactly what a signature on this request binds to (issue 12): the artifact, the
    move, the state and evidence of the obligations that gate this move (with the
    version and artifact each evidence was produced for), open findings and waivers,
    the validation that gates the move and the risk acceptances of open validation
    findings (format 3). Obligations that do not gate the move are not bound: work on
    them never voids a signature."""
    version = request.model_version
    gating = gating_obligations(request) if gating is None else gating
    promote, target = request.kind == rules.PROMOTE, request.to_environment
    obligations = []
    for item in gating:
        row = item.get("row")
        obligations.append(
            {
                "key": item["code"],
                "level": item["level"],
                "status": "missing" if item.get("missing") else item["status"],
                "evidence_sha256": row.evidence_sha256 if row else "",
                "evidence_link": row.evidence_link if row else "",
                "evidence_version": (row.evidence_version_id or "") if row else "",
                "evidence_artifact_sha256": row.evidence_artifact_sha256 if row else "",
            }
        )
    return {
        "format": rules.MANIFEST_FORMAT,
        "request": request.pk,
        "model_version": version.pk,
        "version_label": version.version_label,
        "artifact_sha256": version.artifact_sha256,
        "kind": request.kind,
        "from": request.from_environment,
        "target": request.to_environment,
        "obligations": sorted(obligations, key=lambda o: o["key"]),
        "findings": [
            {"key": f"#{f.pk}", "status": "open", "title": f.title}
            for f in open_findings(version).order_by("pk")
        ],
        "waivers": [
            {"key": w.code, "by": w.by_id, "reason": w.reason}
            for w in BlockingWaiver.objects.filter(request=request).order_by("code")
        ],
        # Format 3: the validation and the findings' risk acceptances gating this move.
        "validations": validation_sel.validations_bound(version, target) if promote else [],
        "acceptances": validation_sel.acceptances_bound(version, target) if promote else [],
    }


# --- The live state of a request ---------------------------------------------------------


@dataclass
class SignatureState:
    signature: Signature
    valid: bool
    reasons: list[str]
    voiding: SignatureVoiding | None = None
    # What changed since signing: {"what", "key", "message", "when", "by"}.
    changes: list[dict[str, Any]] = field(default_factory=list)
    # Findings opened after signing: not bound, so not a change (issue 12 item 8).
    later_findings: list[Finding] = field(default_factory=list)


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
    # slot -> ids of the people Accountable for it in the RACI, whatever their role
    accountable: dict[str, list[int]] = field(default_factory=dict)
    # The obligations that gate this move, with "problem" (None when satisfied).
    gating: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unwaived(self) -> list[BlockingState]:
        return [b for b in self.blocking if b.waiver is None]

    @property
    def approvable(self) -> bool:
        return not self.unwaived and self.tally.complete and self.tally.rejected_by is None

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Findings opened after an approval signature: shown, voiding nothing."""
        return findings_opened_after_approval(self.request, self.signatures)

    @property
    def voidings(self) -> list[SignatureVoiding]:
        return [s.voiding for s in self.signatures if s.voiding is not None]

    def meanings_for(self, user: AnyUser) -> list[str]:
        """The meanings the user may give now (approve, reject, reviewed): what the
        signing dialog offers."""
        return [
            m
            for m in (
                Signature.Meaning.APPROVED,
                Signature.Meaning.REJECTED,
                Signature.Meaning.REVIEWED,
            )
            if self.why_cannot_sign(user, m) is None
        ]

    def why_cannot_sign(self, user: AnyUser, meaning: str) -> str | None:
        """None when ``user`` may sign with ``meaning`` now, else the reason."""
        req = self.request
        if not user.is_authenticated or not has_any_role(user):
            return "You need a governance role to sign."
        if meaning != Signature.Meaning.REVOKED and not has_role(user, *SIGNING_ROLES):
            return _role_refusal(user)
        if meaning in (Signature.Meaning.APPROVED, Signature.Meaning.REVIEWED):
            lapsed = signer_refusal(user)  # never keeps anyone from rejecting or revoking
            if lapsed:
                return lapsed
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
            return self._why_no_slot(user, meaning)
        if meaning == Signature.Meaning.APPROVED and self.unwaived:
            return "Blocking items must be resolved or waived before anyone approves."
        return None

    def _why_no_slot(self, user: AnyUser, meaning: str) -> str | None:
        """For a user with no open sign-off of theirs: may still reject when eligible
        for one; else why not."""
        if meaning == Signature.Meaning.REJECTED and self._eligible_any(user):
            return None
        lacking = self._lacking_role(user)
        if lacking:
            return lacking
        if not self.tally.open_slots:
            return "Every required sign-off is already given."
        roles = ", ".join(rules.SLOT_LABELS.get(s, s) for s in self.tally.open_slots)
        return f"Only the people Accountable for the open sign-offs can decide: {roles}."

    def _lacking_role(self, user: AnyUser) -> str | None:
        """Why a user Accountable in the RACI for an open sign-off still may not sign
        it: the sign-off needs a product role they do not hold (checked when signing,
        not only when they were named)."""
        for slot in self.tally.open_slots:
            needed = SIGNING_TASK_ROLES.get(slot)
            named = user.pk in self.accountable.get(slot, [])
            if needed and named and not has_role(user, *needed):
                label = rules.SLOT_LABELS.get(slot, slot)
                return (
                    f"The {label} sign-off needs the {role_names(needed)} role, which you "
                    "do not hold; being named in the RACI is not enough."
                )
        return None

    def _eligible_any(self, user: AnyUser) -> bool:
        return any(user.pk in {u.pk for u in people} for people in self.eligible.values())

    def slot_for(self, user: AnyUser) -> str | None:
        """The first open slot the user is Accountable for."""
        for slot in self.tally.open_slots:
            if user.pk in {u.pk for u in self.eligible.get(slot, [])}:
                return slot
        return None


def _role_refusal(user: AnyUser) -> str:
    if has_role(user, Role.AUDITOR):
        return "Auditors read and change nothing: an auditor does not sign requests."
    if has_role(user, Role.DATA_SCIENTIST):
        return (
            "Data scientists ask for promotions and do not sign them: risk officers, "
            "approvers and governance leads sign."
        )
    return "Only risk officers, approvers and governance leads sign requests."


def signature_state(
    signature: Signature,
    current: dict[str, Any],
    current_hash: str,
    voiding: SignatureVoiding | None = None,
):
    """Valid when the stored record is intact (its manifest hashes to its hash), it was
    not voided by a change of who signs, and nothing it binds has changed since
    (``core.promotion_rules.binding_changes``); otherwise the reasons say what changed,
    when and by whom. Findings opened after it are not among what it binds: they are
    its ``later_findings`` (issue 12 item 8), whatever its validity."""
    if voiding is not None:
        who = voiding.by.get_username() if voiding.by else "the system"
        return SignatureState(
            signature,
            False,
            [f"Voided on {voiding.at:%Y-%m-%d %H:%M} UTC by {who}: {voiding.what}"],
            voiding,
        )
    if rules.manifest_hash(signature.manifest) != signature.manifest_hash:
        return SignatureState(
            signature, False, ["The stored signature record does not match its own hash."]
        )
    if signature.manifest_hash == current_hash:
        return SignatureState(signature, True, [])
    request = signature.request
    added = [row["key"] for row in rules.findings_added(signature.manifest, current)]
    later = findings_opened_after(added, request.model_version_id, signature.signed_at)
    changes = rules.binding_changes(
        signature.manifest, current, opened_after={f"#{f.pk}" for f in later}
    )
    if not changes:
        return SignatureState(signature, True, [], later_findings=later)
    attributed = [attribute_change(c, request, signature.signed_at) for c in changes]
    reasons = [c["message"] for c in attributed]
    return SignatureState(signature, False, reasons, changes=attributed, later_findings=later)


def _signatures(
    request: PromotionRequest, manifest: dict[str, Any], current_hash: str
) -> tuple[list[SignatureState], Signature | None]:
    """The decisions' signatures with their validity, and the revocation if any."""
    signatures = list(
        Signature.objects.filter(request=request)
        .select_related("signer")
        .order_by("signed_at", "id")
    )
    for s in signatures:
        s.request = request  # the row in hand: no query per signature to read it back
    decision_sigs = [s for s in signatures if s.meaning != Signature.Meaning.REVOKED]
    voidings = {
        v.signature_id: v
        for v in SignatureVoiding.objects.filter(request=request).select_related("by")
    }
    states = [signature_state(s, manifest, current_hash, voidings.get(s.pk)) for s in decision_sigs]
    revocation = next((s for s in signatures if s.meaning == Signature.Meaning.REVOKED), None)
    return states, revocation


def _eligible_signers(
    request: PromotionRequest, version: ModelVersion, use_case: UseCase
) -> tuple[dict[str, list[User]], dict[int, str], dict[str, list[int]]]:
    """Who may fill each slot (the RACI Accountables who hold the slot's product role
    now, minus the excluded), who is excluded by segregation of duties and why, and the
    RACI Accountables of each slot whatever their role."""
    accountable = eligible_by_slot(use_case, request.slots)
    roles_of = _roles_of({i for ids in accountable.values() for i in ids})
    eligible_ids = {}
    for slot, ids in accountable.items():
        roles = set(SIGNING_TASK_ROLES.get(slot, SIGNING_ROLES))
        eligible_ids[slot] = [i for i in ids if roles_of.get(i, set()) & roles]
    people = {
        u.pk: u for u in User.objects.filter(pk__in={i for v in eligible_ids.values() for i in v})
    }
    excluded = rules.excluded_signers(
        requester_id=request.requested_by_id,
        author_ids=list(version.authors.values_list("pk", flat=True)),
        validator_id=version.validator_id,
    )
    for uid in version.validations.filter(signed_at__isnull=False).values_list("validator_id"):
        excluded.setdefault(uid[0], "a validator of this version")
    eligible = {
        slot: [people[i] for i in ids if i not in excluded] for slot, ids in eligible_ids.items()
    }
    return eligible, excluded, accountable


def _roles_of(ids: set[int]) -> dict[int, set[str]]:
    """The product roles (groups) of those of these users who are active, in one query
    for every slot."""
    out: dict[int, set[str]] = {}
    for uid, role in User.objects.filter(pk__in=ids, is_active=True).values_list(
        "pk", "groups__name"
    ):
        if role:
            out.setdefault(uid, set()).add(role)
    return out


def _blocking(
    request: PromotionRequest,
    version: ModelVersion,
    use_case: UseCase,
    eligible: dict[str, list[User]],
    owed: list[dict[str, Any]],
) -> list[BlockingState]:
    """What blocks the request, each with its waiver if one was given."""
    raci = raci_view(use_case=use_case)
    items = rules.blocking_items(
        kind=request.kind,
        target=request.to_environment,
        obligations=owed,
        raci_problems=[v.message for v in raci.violations],
        # Validation findings: validation_blocking_items. The others block the moves
        # the policy names for their severity, until verified or their risk accepted.
        open_findings=[
            {"id": f.pk, "title": f.title}
            for f in findings_blocking(version, request.to_environment, validation=False)
        ],
        missing_fields=version_missing_fields(version),
        eligible_by_slot={slot: [u.pk for u in us] for slot, us in eligible.items()},
        extra=validation_sel.validation_blocking_items(version, request.to_environment),
    )
    if request.kind == rules.PROMOTE:  # issue 12, items 4 and 5: facts, confirmation, ethics
        target = request.to_environment
        items += [
            rules.BlockingItem(*b)
            for b in classification_blocking(use_case, target) + ethics_blocking(use_case, target)
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


@dataclass
class _Signing:
    owed: list[dict[str, Any]]
    gating: list[dict[str, Any]]
    manifest: dict[str, Any]
    manifest_hash: str
    states: list[SignatureState]
    revocation: Signature | None


def _signing(request: PromotionRequest) -> _Signing:
    """What the version owes, the current manifest and the signatures checked against
    it: the part of a request's state that both the page and the gate read."""
    owed = version_obligations_for_gate(request.model_version)
    gating = [
        dict(o, problem=rules.obligation_problem(o))
        for o in owed
        if request.kind == rules.PROMOTE and rules.obligation_gates(o, request.to_environment)
    ]
    manifest = signing_manifest(request, gating)
    current_hash = rules.manifest_hash(manifest)
    states, revocation = _signatures(request, manifest, current_hash)
    return _Signing(owed, gating, manifest, current_hash, states, revocation)


def request_gate_state(
    request: PromotionRequest,
) -> tuple[list[SignatureState], list[rules.BlockingItem]]:
    """What the deployment gate reads of an approved request (issue 13: without the
    RACI, eligibility and findings the signing page needs): its decisions' signatures
    with their validity, and the blocking items of the obligations that gate its move
    and were not waived, as ``request_state(request).unwaived`` has them."""
    signing = _signing(request)
    items = rules.blocking_items(
        kind=request.kind,
        target=request.to_environment,
        obligations=signing.owed,
        raci_problems=[],
        open_findings=[],
        missing_fields=[],
        eligible_by_slot={},
    )
    waived = set(BlockingWaiver.objects.filter(request=request).values_list("code", flat=True))
    return signing.states, [i for i in items if i.code not in waived]


def request_state(request: PromotionRequest) -> RequestState:
    version = request.model_version
    use_case = version.model.use_case
    signing = _signing(request)
    owed, gating, manifest = signing.owed, signing.gating, signing.manifest
    current_hash, states, revocation = signing.manifest_hash, signing.states, signing.revocation
    eligible, excluded, accountable = _eligible_signers(request, version, use_case)
    blocking = _blocking(request, version, use_case, eligible, owed)
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
        accountable=accountable,
        gating=gating,
    )


# --- Lists --------------------------------------------------------------------------------


def request_list(*, user: AnyUser | None = None) -> QuerySet[PromotionRequest]:
    qs = PromotionRequest.objects.select_related(
        "model_version__model__use_case", "requested_by"
    ).order_by("-requested_at", "-id")
    return qs if has_any_role(user) else qs.none()


def request_get(*, pk: int, user: AnyUser) -> PromotionRequest:
    return request_list(user=user).get(pk=pk)


def gate_calls(*, allowed: bool | None = None, version_id: int | None = None):
    qs = GateCall.objects.select_related("caller", "model_version__model", "request")
    if allowed is not None:
        qs = qs.filter(allowed=allowed)
    if version_id:
        qs = qs.filter(model_version_id=version_id)
    return qs


def requests_for_version(version: ModelVersion) -> QuerySet[PromotionRequest]:
    return PromotionRequest.objects.filter(model_version=version).select_related("requested_by")


def requests_waiting_since(*, days: int) -> QuerySet[PromotionRequest]:
    cutoff = timezone.now() - timedelta(days=days)
    return PromotionRequest.objects.filter(
        Q(status=PromotionRequest.Status.PENDING), requested_at__lte=cutoff
    ).select_related("model_version__model__use_case", "requested_by")
