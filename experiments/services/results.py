"""The signed result and the evidence: the owner (or a governance lead) signs an
analysed experiment's result with the password typed again, and the signed result is
filed as evidence on the use case's preproduction-verification obligation, so that its
hash is bound into every later sign-off of the use case's requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.sso.signing import Credential
from core import promotion_rules as rules
from experiments import permissions
from experiments import selectors as sel
from experiments.models import Experiment
from experiments.services.base import EVIDENCE_CONSIDERATION, _audit, _locked
from governance.models import Obligation
from governance.selectors import obligation_for
from governance.services import obligation_submit_evidence
from governance.services.signing import reauthentication_record
from reviews.models import Signature
from reviews.services.promotion import _check_password, printed_name


def result_document(experiment: Experiment) -> dict[str, Any]:
    """What the owner's signature on the result binds to."""
    return {
        "experiment": experiment.pk,
        "name": experiment.name,
        "use_case": experiment.use_case_id,
        "champion": experiment.champion_id,
        "challenger": experiment.challenger_id,
        "protocol_sha256": experiment.protocol_sha256,
        "result_sha256": experiment.result_sha256,
        "verdict": (experiment.result or {}).get("verdict", ""),
        "result": experiment.result,
    }


@dataclass
class SignedResult:
    signature: Signature
    evidence: Obligation | None
    evidence_error: str = ""


def experiment_result_sign(
    *,
    experiment: Experiment,
    by: User,
    password: Credential,
    reason: str = "",
    via_token: bool = False,
) -> SignedResult:
    """The owner (or a governance lead) signs the analysed result with the password
    typed now; the signed result is then submitted as evidence for the use case's
    preproduction-verification obligation (``experiment_submit_evidence``). When the
    evidence cannot be submitted, the signature stands and ``evidence_error`` says why."""
    if via_token:
        raise PermissionDenied("An API token cannot sign: sign in the browser.")
    _result_checks(experiment, by)
    reauth = _check_password(
        by, password, f"sign the result of experiment #{experiment.pk}", fields={"reason": reason}
    )
    return _result_sign(experiment=experiment, by=by, reason=reason, reauth=reauth)


def experiment_result_sign_unchecked(
    *, experiment: Experiment, by: User, auth_method: str, reason: str = ""
) -> SignedResult:
    """Sign the result without a password, recording ``auth_method``. Demo loader only."""
    _result_checks(experiment, by)
    return _result_sign(experiment=experiment, by=by, reason=reason, auth_method=auth_method)


def _result_checks(experiment: Experiment, by: User) -> None:
    if not permissions.can_sign_experiment_result(by, experiment):
        raise PermissionDenied("Only the experiment's owner or a governance lead signs its result.")
    if experiment.status != Experiment.Status.ANALYSED:
        raise ValidationError("Only an analysed experiment's result can be signed.", code=CONFLICT)
    if experiment.signatures.filter(meaning=Signature.Meaning.RESULT_SIGNED).exists():
        raise ValidationError("The result is already signed.", code=CONFLICT)
    why = sel.result_not_signable_reason(experiment)
    if why:
        raise ValidationError(why, code=CONFLICT)


def _result_sign(
    *, experiment, by, reason, auth_method="password re-entry", reauth=None
) -> SignedResult:
    with transaction.atomic():
        experiment = _locked(experiment)
        _result_checks(experiment, by)
        document = result_document(experiment)
        signature = Signature.objects.create(
            experiment=experiment,
            signer=by,
            printed_name=printed_name(by),
            signed_at=timezone.now(),
            meaning=Signature.Meaning.RESULT_SIGNED,
            reason=(reason or "").strip(),
            manifest=document,
            manifest_hash=rules.manifest_hash(document),
            auth_method=reauth.method if reauth else auth_method,
        )
        if reauth:
            reauthentication_record(reauth, obj=experiment, by=by, signature=signature.pk)
        _audit(
            "experiment.result_signed",
            experiment,
            by=by,
            reason=reason or document["verdict"],
            signature=(None, signature.pk),
            manifest_hash=(None, signature.manifest_hash),
        )
    try:
        obligation = experiment_submit_evidence(experiment=experiment, by=by)
    except (ValidationError, PermissionDenied) as exc:
        why = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return SignedResult(signature, None, why)
    return SignedResult(signature, obligation)


def evidence_document(experiment: Experiment) -> dict[str, Any]:
    signatures = experiment.signatures.order_by("signed_at", "id")
    return {
        "kind": "experiment-result",
        "experiment": experiment.pk,
        "name": experiment.name,
        "use_case": {"id": experiment.use_case_id, "name": experiment.use_case.name},
        "champion": {"id": experiment.champion_id, "label": str(experiment.champion)},
        "challenger": {"id": experiment.challenger_id, "label": str(experiment.challenger)},
        "protocol": sel.protocol_document(experiment),
        "protocol_sha256": experiment.protocol_sha256,
        "result": experiment.result,
        "result_sha256": experiment.result_sha256,
        "signatures": [
            {
                "meaning": s.meaning,
                "printed_name": s.printed_name,
                "signed_at": s.signed_at.isoformat(),
                "manifest_hash": s.manifest_hash,
                "auth_method": s.auth_method,
            }
            for s in signatures
        ],
    }


@transaction.atomic
def experiment_submit_evidence(*, experiment: Experiment, by: User) -> Obligation:
    """Submit the signed result (a JSON file) as evidence for the use case's
    preproduction-verification obligation: its SHA-256 is stored on the obligation and
    so bound into every later sign-off manifest of the use case's requests. Raises
    ValidationError when the result is not signed, the use case owes no such
    obligation or it is already accepted or waived (obligation_submit_evidence)."""
    experiment = _locked(experiment)
    if not permissions.can_sign_experiment_result(by, experiment):
        raise PermissionDenied("Only the experiment's owner or a governance lead submits it.")
    why = sel.result_not_signable_reason(experiment)
    if why:
        raise ValidationError(why, code=CONFLICT)
    if not experiment.signatures.filter(meaning=Signature.Meaning.RESULT_SIGNED).exists():
        raise ValidationError("Sign the result before submitting it as evidence.", code=CONFLICT)
    if experiment.evidence_sha256:
        raise ValidationError("The signed result is already filed as evidence.", code=CONFLICT)
    why = sel.promotion_support_refusal(experiment)
    if why:
        raise ValidationError(why, code=CONFLICT)
    # The challenger's own obligation (issue 12): the result is evidence about it.
    obligation = obligation_for(version=experiment.challenger, code=EVIDENCE_CONSIDERATION)
    if obligation is None:
        raise ValidationError(
            "The challenger version owes no preproduction-verification obligation."
        )
    body = json.dumps(evidence_document(experiment), sort_keys=True, indent=1).encode()
    obligation = obligation_submit_evidence(
        obligation=obligation,
        by=by,
        file=ContentFile(body, name=f"experiment-{experiment.pk}-result.json"),
        note=f"Signed result of experiment #{experiment.pk} ({experiment.name}): "
        f"{(experiment.result or {}).get('verdict', '')}.",
    )
    experiment.evidence_obligation = obligation
    experiment.evidence_sha256 = obligation.evidence_sha256
    experiment.save(update_fields=["evidence_obligation", "evidence_sha256"])
    _audit(
        "experiment.evidence_submitted",
        experiment,
        by=by,
        evidence_sha256=(None, obligation.evidence_sha256),
        obligation=(None, obligation.pk),
    )
    return obligation
