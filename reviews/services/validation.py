"""Writes of independent validation (issue 12): record a validation (a draft), change
the draft, sign it ("validated", password typed again, the signing lockout counts wrong
passwords). The risk acceptance of its findings is in ``reviews.services.acceptance``.

Who may validate is decided by ``reviews.selectors.validation.validator_refusal``
before anything is written; a refused signing attempt leaves a ``signature.refused``
audit event. A signed validation is never changed (``Validation.save`` refuses).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.sso.signing import Credential
from audit.services import audit_record
from core import finding_rules as fr
from core import promotion_rules as rules
from governance.services.signing import reauthentication_record
from inventory.models import ModelVersion
from reviews.models import Finding, Signature, Validation
from reviews.models.validation import SIGNED_ONLY_ADDS
from reviews.selectors.validation import validation_manifest, validator_refusal
from reviews.services.findings import finding_create
from reviews.services.signers import check_signing_password

TEXT_FIELDS = ("scope", "conceptual_soundness", "data", "outcomes_analysis", "limitations")


def _printed_name(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def _clean_findings(raw: Any) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError({"findings_raised": 'Give a list of {"title", "detail"}.'})
    out = []
    for i, item in enumerate(raw, start=1):
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            raise ValidationError({"findings_raised": f"Finding {i}: give a title and a detail."})
        title = str(item.get("title") or "").strip()
        if not title:
            raise ValidationError({"findings_raised": f"Finding {i} has no title."})
        severity = str(item.get("severity") or fr.MEDIUM)
        if severity not in fr.SEVERITY_RANK:
            raise ValidationError(
                {"findings_raised": f"Finding {i}: severity is one of {', '.join(fr.SEVERITIES)}."}
            )
        out.append(
            {
                "title": title[:300],
                "detail": str(item.get("detail") or "").strip()[:4000],
                "severity": severity,
            }
        )
    return out


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The record's fields, checked: every text given, a known conclusion, conditions
    named as findings when approving with conditions. ValidationError otherwise."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = str(fields.get(name) or "").strip()
        if not value:
            errors.setdefault(name, []).append("This part of the validation is required.")
        cleaned[name] = value
    conclusion = fields.get("conclusion")
    if conclusion not in Validation.Conclusion.values:
        errors.setdefault("conclusion", []).append(
            "Conclude approve, approve with conditions or reject."
        )
    cleaned["conclusion"] = conclusion
    try:
        cleaned["findings_raised"] = _clean_findings(fields.get("findings_raised"))
    except ValidationError as exc:
        for field, msgs in exc.message_dict.items():
            errors.setdefault(field, []).extend(msgs)
        cleaned["findings_raised"] = []
    if (
        conclusion == Validation.Conclusion.APPROVE_WITH_CONDITIONS
        and not cleaned["findings_raised"]
    ):
        errors.setdefault("findings_raised", []).append(
            "Approve with conditions names its conditions as findings."
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _audit(action: str, obj, *, by: User | None, reason: str = "", **changes) -> None:
    audit_record(
        action=action,
        obj=obj,
        actor=by,
        reason=reason,
        changes={k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()},
    )


@transaction.atomic
def validation_record(*, version: ModelVersion, by: User, **fields: Any) -> Validation:
    """Record a validation of ``version`` (a draft until signed). Raises
    PermissionDenied when ``by`` may not validate it (not independent, not a validator)
    and ValidationError for a missing part; nothing is written then."""
    version = ModelVersion.objects.select_related("model__use_case__team").get(pk=version.pk)
    why = validator_refusal(by, version)
    if why:
        raise PermissionDenied(why)
    cleaned = _clean(fields)
    now = timezone.now()
    validation = Validation(
        model_version=version, validator=by, created_at=now, updated_at=now, **cleaned
    )
    validation.full_clean()
    validation.save()
    _audit(
        "validation.recorded",
        validation,
        by=by,
        reason=f"Conclusion: {validation.get_conclusion_display()}",
        conclusion=(None, validation.conclusion),
    )
    return validation


@transaction.atomic
def validation_update(*, validation: Validation, by: User, **fields: Any) -> Validation:
    """Change a draft validation (its validator only). A signed one is never changed:
    ValidationError (AppendOnlyError), nothing written."""
    validation = Validation.objects.select_for_update().get(pk=validation.pk)
    if validation.is_signed:
        raise ValidationError(SIGNED_ONLY_ADDS)
    if validation.validator_id != by.pk:
        raise PermissionDenied("Only the validator who recorded this validation changes it.")
    why = validator_refusal(by, validation.model_version)
    if why:
        raise PermissionDenied(why)
    current = {name: getattr(validation, name) for name in (*TEXT_FIELDS, "conclusion")}
    current["findings_raised"] = validation.findings_raised
    cleaned = _clean({**current, **fields})
    changes = {k: [current[k], v] for k, v in cleaned.items() if current[k] != v}
    for name, value in cleaned.items():
        setattr(validation, name, value)
    validation.updated_at = timezone.now()
    validation.full_clean()
    validation.save()
    audit_record(action="validation.changed", obj=validation, actor=by, changes=changes)
    return validation


def validation_sign_refusal(*, validation: Validation, by: User) -> str | None:
    """Why ``by`` may not sign the validation now, or None."""
    if validation.is_signed:
        return "This validation is already signed; a signed validation is never signed again."
    if validation.validator_id != by.pk:
        return (
            f"Only {validation.validator.get_username()}, who recorded this validation, signs "
            "it: nobody signs in another person's name."
        )
    return validator_refusal(by, validation.model_version)


def validation_signing_refused(*, validation: Validation, by: User, why: str) -> None:
    """Record a refused signing attempt (its own transaction: it survives the refusal)."""
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            obj=validation,
            actor=by,
            reason=why,
            changes={"meaning": [None, Signature.Meaning.VALIDATED]},
        )


def validation_sign(
    *, validation: Validation, by: User, password: Credential, via_token: bool = False
) -> Validation:
    """Sign the validation with the meaning "validated", the password typed now. An
    API token never signs. Refusals (PermissionDenied) are decided before the password
    is checked and leave an audit event; a wrong password is a ValidationError and is
    counted by the signing lockout."""
    if via_token:
        why = "An API token cannot sign: sign in the browser and re-enter your password."
        validation_signing_refused(validation=validation, by=by, why=why)
        raise PermissionDenied(why)
    why = validation_sign_refusal(validation=validation, by=by)
    if why:
        validation_signing_refused(validation=validation, by=by, why=why)
        raise PermissionDenied(why)
    reauth = check_signing_password(by, password, f"sign validation #{validation.pk} as validated")
    try:
        with transaction.atomic():
            signed = _sign(validation=validation, by=by, auth_method=reauth.method)
            reauthentication_record(reauth, obj=validation, by=by)
        return signed
    except PermissionDenied as exc:
        validation_signing_refused(validation=validation, by=by, why=str(exc))
        raise


def validation_sign_unchecked(*, validation: Validation, by: User, auth_method: str) -> Validation:
    """Sign without re-entering a password, recording ``auth_method`` honestly on the
    signature. For the demo loader only; no page or endpoint calls it."""
    why = validation_sign_refusal(validation=validation, by=by)
    if why:
        raise PermissionDenied(why)
    return _sign(validation=validation, by=by, auth_method=auth_method)


@transaction.atomic
def _sign(
    *, validation: Validation, by: User, auth_method: str = "password re-entry"
) -> Validation:
    validation = (
        Validation.objects.select_for_update()
        .select_related("model_version__model__use_case__team", "validator")
        .get(pk=validation.pk)
    )
    why = validation_sign_refusal(validation=validation, by=by)
    if why:
        raise PermissionDenied(why)
    manifest = validation_manifest(validation)
    now = timezone.now()
    Signature.objects.create(
        validation=validation,
        signer=by,
        printed_name=_printed_name(by),
        signed_at=now,
        meaning=Signature.Meaning.VALIDATED,
        reason=f"Conclusion: {validation.get_conclusion_display()}",
        manifest=manifest,
        manifest_hash=rules.manifest_hash(manifest),
        auth_method=auth_method,
    )
    validation.signed_at = now
    validation.save(update_fields=["signed_at"])
    for i, raised in enumerate(validation.findings_raised, start=1):
        finding_create(
            version=validation.model_version,
            by=by,
            source=Finding.Source.VALIDATION,
            severity=raised.get("severity") or fr.MEDIUM,
            title=raised["title"],
            detail={"detail": raised.get("detail", ""), "validation": validation.pk},
            key=f"validation:{validation.pk}:{i}",
            validation=validation,
        )
    _audit(
        "validation.signed",
        validation,
        by=by,
        reason=f"Validated: {validation.get_conclusion_display()}",
        signed_at=(None, now.isoformat()),
    )
    return validation
