"""The governance lead's override of a failed data-quality step (issue 14): a result
that is not valid shows no test, effect, p-value or decision and cannot be signed nor
filed as evidence, unless a governance lead other than the experiment's owner declares
it valid anyway with a signed justification (the password typed again, never a token).
The override is a ``Signature`` (append-only) binding the result's SHA-256, its
data-quality problems and the justification; it is audited and shown on the result.
Decided before the withheld statistics are shown, so it cannot be chosen by them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import is_governance_lead
from accounts.sso.signing import Credential
from core import promotion_rules as rules
from experiments import selectors as sel
from experiments.models import Experiment
from experiments.services.base import _audit, _locked
from experiments.services.findings import experiment_outcome_finding
from governance.services.signing import reauthentication_record
from reviews.models import Signature
from reviews.services.promotion import _check_password, printed_name

MIN_JUSTIFICATION = 20


def override_document(experiment: Experiment, justification: str) -> dict[str, Any]:
    """What the override signature binds to."""
    result = experiment.result or {}
    return {
        "experiment": experiment.pk,
        "protocol_sha256": experiment.protocol_sha256,
        "result_sha256": experiment.result_sha256,
        "problems": list(result.get("problems") or []),
        "verdict": result.get("verdict", ""),
        "justification": justification,
    }


def override_refusal(experiment: Experiment, by: User) -> tuple[str, int]:
    """(why ``by`` cannot override now, 403 or 409), or ('', 0)."""
    if not is_governance_lead(by):
        return "Only a governance lead may override a failed data-quality step.", 403
    if by.pk == experiment.owner_id:
        return "The experiment's owner cannot override its own data-quality step.", 403
    if not sel.result_available(experiment):
        return "Only an analysed result can be overridden.", 409
    if sel.result_override(experiment) is not None:
        return "The data-quality step of this result is already overridden.", 409
    if sel.result_valid(experiment):
        return "The result passed its data-quality step: there is nothing to override.", 409
    if (experiment.result or {}).get("error"):
        return "The registered test could not run: there is no result to declare valid.", 409
    return "", 0


def _checks(experiment: Experiment, by: User, justification: str) -> str:
    why, code = override_refusal(experiment, by)
    if code == 403:
        raise PermissionDenied(why)
    if why:
        raise ValidationError(why, code=CONFLICT)
    justification = (justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION:
        raise ValidationError(
            {
                "justification": "Justify the override: why the data-quality problems do not "
                f"invalidate the test (at least {MIN_JUSTIFICATION} characters)."
            }
        )
    return justification


def experiment_result_override(
    *,
    experiment: Experiment,
    by: User,
    password: Credential,
    justification: str,
    via_token: bool = False,
) -> Signature:
    """Declare a result that failed its data-quality step valid, with a signed
    justification. Raises PermissionDenied (a token; not a governance lead; the
    owner), ValidationError coded CONFLICT (not analysed, valid, not analysable, already
    overridden) or on the justification or the password; writes nothing then. A
    result that then does not support the challenger opens its finding."""
    if via_token:
        raise PermissionDenied("An API token cannot sign: override in the browser.")
    justification = _checks(experiment, by, justification)
    reauth = _check_password(
        by,
        password,
        f"override the result of experiment #{experiment.pk}",
        fields={"justification": justification},
    )
    with transaction.atomic():
        experiment = _locked(experiment)
        justification = _checks(experiment, by, justification)
        document = override_document(experiment, justification)
        signature = Signature.objects.create(
            experiment=experiment,
            signer=by,
            printed_name=printed_name(by),
            signed_at=timezone.now(),
            meaning=Signature.Meaning.RESULT_OVERRIDDEN,
            reason=justification,
            manifest=document,
            manifest_hash=rules.manifest_hash(document),
            auth_method=reauth.method,
        )
        reauthentication_record(reauth, obj=experiment, by=by, signature=signature.pk)
        _audit(
            "experiment.result_overridden",
            experiment,
            by=by,
            reason=justification,
            signature=(None, signature.pk),
            manifest_hash=(None, signature.manifest_hash),
        )
        experiment_outcome_finding(experiment)
    return signature
