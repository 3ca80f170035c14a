"""The deployment gate's decision: may this version run in that environment now?

Fails closed: anything unknown, missing, stale or revoked blocks, each with a stable
machine-readable code and a sentence (``reasons``). What the caller should know without
being blocked is a warning (``warnings``, same shape): a finding opened after the
approval was signed (``finding-opened-after-approval``) did not exist when the approvers
signed, so it is not a change to what they signed and does not void their signatures
(issue 12 item 8); the answer and the gate log name it, its severity, when and by whom
or what it was raised. It blocks nothing the policy does not say it blocks. A change to
what a signature bound (the artifact, the gating obligations and their evidence, the
findings open at signing, waivers, the validation and risk acceptances) is still a
``signature-mismatch`` saying what changed, when and by whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import promotion_rules as rules
from core.memo import memo_scope
from governance.selectors.classification import classification_blocking
from governance.selectors.ethics import ethics_blocking
from governance.selectors.obligations import obligations_gating_move
from inventory.choices import LifecycleStatus
from inventory.models import ModelVersion
from reviews.models import PromotionRequest, Signature
from reviews.selectors import promotion as sel
from reviews.selectors.changes import findings_opened_after_approval
from reviews.selectors.validation import validation_blocking


@dataclass
class GateDecision:
    allowed: bool
    reasons: list[dict[str, str]] = field(default_factory=list)
    version: ModelVersion | None = None
    request: PromotionRequest | None = None
    # What does not block but the pipeline and the gate log must show (same shape).
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The approved request the answer rests on (an answer from the cache has only its id).
    request_id: int | None = None

    def block(self, code: str, message: str, **extra) -> None:
        self.allowed = False
        self.reasons.append({"code": code, "message": message, **extra})


def find_version(*, version_id=None, artifact_sha256: str | None = None, model_id=None):
    """(version, problem): by id, by (model id, artifact SHA-256), or by the SHA-256
    alone, which must name exactly one registration (issue 12, item 7: a second model
    can register a SHA-256 only when a governance lead linked it, so another team
    cannot make your SHA-only call ambiguous)."""
    versions = ModelVersion.objects.select_related("model__use_case")
    sha = artifact_sha256.lower() if artifact_sha256 else None
    if version_id is not None:
        version = versions.filter(pk=version_id).first()
        if version is None:
            return None, ("unknown-version", f"No model version {version_id} in the inventory.")
        if sha and version.artifact_sha256 != sha:
            return None, (
                "artifact-mismatch",
                "The artifact SHA-256 given is not the one registered for this version.",
            )
        if model_id is not None and version.model_id != model_id:
            return None, (
                "model-mismatch",
                f"Version {version_id} is not a version of model {model_id}.",
            )
        return version, None
    if sha and model_id is not None:
        version = versions.filter(model_id=model_id, artifact_sha256=sha).first()
        if version is None:
            return None, (
                "unknown-version",
                f"Model {model_id} has no version with this artifact SHA-256.",
            )
        return version, None
    if sha:
        matches = list(versions.filter(artifact_sha256=sha)[:2])
        if not matches:
            return None, ("unknown-version", "No model version has this artifact SHA-256.")
        if len(matches) > 1:
            return None, (
                "ambiguous-artifact",
                "Several versions carry this artifact SHA-256; give the model (model) or "
                "the version (model_version) with it.",
            )
        return matches[0], None
    return None, ("unknown-version", "Give a model version id or an artifact SHA-256.")


def _block_second_line(decision, version, use_case, environment: str) -> None:
    """What the second line's records stop: the classification (facts, confirmation;
    issue 12 item 4), ethics deviations not accepted (item 5), independent validation."""
    for code, message in classification_blocking(use_case, environment):
        decision.block(code, message)
    for code, message in ethics_blocking(use_case, environment):
        decision.block(code, message)
    for code, message in validation_blocking(version, environment):
        decision.block(code.split(":")[0], message, item=code)


def _block_unmet_obligations(decision, version, environment: str) -> None:
    """Without an approval, the pipeline is still told every obligation the policy says
    gates the move and is not met (issue 12, item 3: a Critical version's open
    obligations, its missing monitoring), not only that nothing was approved."""
    for item in obligations_gating_move(version=version, environment=environment):
        if item["problem"]:
            decision.block("obligation-unmet", item["problem"], obligation=item["code"])


def gate_decision(version: ModelVersion, environment: str) -> GateDecision:
    """Whether ``version`` may run in ``environment`` now, with every reason it may not.
    Read-only, so the reads it repeats (policy, RACI, obligations, classification,
    ethics, validation) are computed once per call (issue 13)."""
    with memo_scope():
        return _gate_decision(version, environment)


def _gate_decision(version: ModelVersion, environment: str) -> GateDecision:
    decision = GateDecision(allowed=True, version=version)
    if environment not in rules.ORDER:
        decision.block(
            "unknown-environment",
            f"{environment!r} is not an environment; use one of {', '.join(rules.ORDER)}.",
        )
        return decision
    use_case = version.model.use_case
    if version.environment == rules.RETIRED or use_case.status == LifecycleStatus.RETIRED:
        decision.block("retired", "The version or its use case is retired.")
    for name in sel.version_missing_fields(version):
        decision.block("missing-inventory-field", f"The version has no {name} in the inventory.")
    if environment == "dev":
        return decision
    _block_second_line(decision, version, use_case, environment)
    current = version.environment
    if current not in rules.ORDER or rules.ORDER.index(current) < rules.ORDER.index(environment):
        decision.block(
            "not-approved-for-environment",
            f"The version is in {current}; it has not been approved into {environment}.",
        )
    request = sel.latest_approved(version, environment)
    decision.request = request
    decision.request_id = request.pk if request is not None else None
    if request is None:
        decision.block("no-approval", f"No approved request took this version into {environment}.")
        _block_unmet_obligations(decision, version, environment)
        return decision
    if request.status == PromotionRequest.Status.REVOKED:
        revocation = request.signatures.filter(meaning=Signature.Meaning.REVOKED).first()
        decision.block(
            "approval-revoked",
            f"The approval of request #{request.pk} was revoked"
            + (f" by {revocation.printed_name}: {revocation.reason}" if revocation else "."),
        )
    request.model_version = version  # the same row: its use case is loaded already
    signatures, unwaived = sel.request_gate_state(request)
    for s in signatures:
        if s.signature.meaning == Signature.Meaning.APPROVED and not s.valid:
            decision.block(
                "signature-mismatch",
                f"The signature of {s.signature.printed_name} no longer matches: "
                + " ".join(s.reasons),
                signature=s.signature.pk,
                changes=s.changes,
            )
    decision.warnings += findings_opened_after_approval(request, signatures)
    # The policy's gating obligations, evaluated as the request was (issue 12): what
    # gates the move into this environment must be satisfied now, unless the request
    # waived it.
    for item in unwaived:
        if item.code.startswith("obligation:"):
            decision.block("obligation-unmet", item.message, obligation=item.code[11:])
    if environment == "prod":
        review = sel.review_status(version)
        if review.past_grace:
            decision.block(
                "periodic-review-overdue",
                f"The periodic review was due on {review.due} and is {review.overdue_days} "
                f"days overdue (grace {review.grace_days} days).",
            )
    return decision
