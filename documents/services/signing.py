"""The validator's signature of a validation report (issue 15): an electronic signature
with the meaning "validated", as requests and validations are signed (the password
typed now, never an API token, the signing lockout shared with every signed act).

Who signs: the validator who recorded and signed the validation the report describes,
while still a validator independent of the use case. What is signed: a manifest
binding the report's content SHA-256, its rendered files, the version's artifact and
the validation's own signature; the records must still be those the report was built
from (a report of old records is refused: ask for it again). After signing, a worker
prints the report again with the signature's manifestation (printed name, UTC time,
meaning, hash): the signed PDF and Word files.

Every refusal is an audit event (``signature.refused``), before any password is typed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.sso.signing import Credential
from audit.services import audit_record
from core import promotion_rules as rules
from documents.models import DocumentSignature, GeneratedDocument
from governance.services.signing import printed_name, reauthentication_record
from notifications.jobs import enqueue
from reviews.models import Signature, Validation
from reviews.selectors.validation import validator_refusal
from reviews.services.signers import check_signing_password

MANIFEST_FORMAT = 1
API_CANNOT_SIGN = "An API token cannot sign: sign in the browser and re-enter your password."


def report_validation(document: GeneratedDocument) -> Validation | None:
    """The validation a report describes (None for other documents)."""
    validation_id = (document.content or {}).get("validation")
    if not validation_id:
        return None
    return Validation.objects.select_related("validator").filter(pk=validation_id).first()


def document_sign_refusal(*, document: GeneratedDocument, by: Any) -> str | None:
    """Why ``by`` may not sign ``document`` now, or None."""
    from documents.services.generation import document_content

    if document.kind != GeneratedDocument.Kind.VALIDATION_REPORT:
        return "Only a model validation report is signed (as validated)."
    if document.status != GeneratedDocument.Status.DONE:
        return "The report is not rendered yet; sign it once its files are made."
    existing = DocumentSignature.objects.filter(document=document).first()
    if existing is not None:
        return (
            f"This report was signed by {existing.printed_name} at "
            f"{existing.signed_at:%Y-%m-%d %H:%M} UTC; a signed report is never signed again."
        )
    validation = report_validation(document)
    if validation is None:
        return (
            "The report describes no validation: a validator records and signs the "
            "validation of this version first, then the report is generated again."
        )
    if validation.validator_id != getattr(by, "pk", None):
        return (
            f"Only {validation.validator.get_username()}, who recorded validation "
            f"#{validation.pk}, signs its report: nobody signs in another person's name."
        )
    if validation.signed_at is None:
        return f"Validation #{validation.pk} is not signed yet: sign it first, then its report."
    version = document.model_version
    why = validator_refusal(by, version)
    if why:
        return why
    _content, sha256 = document_content(
        version=version, kind=document.kind, use_case=document.use_case
    )
    if sha256 != document.content_sha256:
        return (
            "The records changed since this report was generated (its content SHA-256 "
            "is no longer theirs): ask for the report again and sign the new one."
        )
    return None


def document_signing_refused(*, document: GeneratedDocument, by: Any, why: str) -> None:
    """Record a refused signing attempt (its own transaction: it survives the refusal)."""
    with transaction.atomic():
        audit_record(
            action="signature.refused",
            obj=document,
            actor=by if getattr(by, "is_authenticated", False) else None,
            parent=document.model_version,
            reason=why,
            changes={"meaning": [None, DocumentSignature.Meaning.VALIDATED]},
        )


def document_manifest(document: GeneratedDocument, validation: Validation) -> dict[str, Any]:
    """What a report's signature binds."""
    version = document.model_version
    validation_signature = Signature.objects.filter(validation=validation).first()
    return {
        "format": MANIFEST_FORMAT,
        "document": document.pk,
        "kind": document.kind,
        "model_version": version.pk,
        "use_case": document.use_case_id,  # set for a report of the use case as a whole
        "artifact_sha256": version.artifact_sha256,
        "content_sha256": document.content_sha256,
        "template": document.template,
        "pdf_sha256": document.pdf_sha256,
        "docx_sha256": document.docx_sha256,
        "validation": validation.pk,
        "validation_signature_hash": getattr(validation_signature, "manifest_hash", ""),
        "meaning": DocumentSignature.Meaning.VALIDATED,
    }


def document_sign(
    *, document: GeneratedDocument, by: Any, password: Credential, via_token: bool = False
) -> DocumentSignature:
    """Sign a validation report "validated" with the password typed now, then queue the
    printing of its signed files. Raises PermissionDenied (an API token, a signer who
    may not sign, a locked signer; each recorded) or ValidationError (a wrong password,
    counted by the lockout; signed meanwhile)."""
    document = GeneratedDocument.objects.select_related("model_version", "use_case").get(
        pk=document.pk
    )
    if via_token:
        document_signing_refused(document=document, by=by, why=API_CANNOT_SIGN)
        raise PermissionDenied(API_CANNOT_SIGN)
    why = document_sign_refusal(document=document, by=by)
    if why:
        document_signing_refused(document=document, by=by, why=why)
        raise PermissionDenied(why)
    reauth = check_signing_password(by, password, f"sign document #{document.pk} as validated")
    try:
        with transaction.atomic():
            signature = _sign(document=document, by=by, auth_method=reauth.method)
            reauthentication_record(reauth, obj=document, by=by, signature=signature.pk)
        return signature
    except PermissionDenied as exc:
        document_signing_refused(document=document, by=by, why=str(exc))
        raise


@transaction.atomic
def _sign(
    *, document: GeneratedDocument, by: Any, auth_method: str = "password re-entry"
) -> DocumentSignature:
    document = (
        GeneratedDocument.objects.select_for_update(of=("self",))
        .select_related("model_version__model__use_case", "use_case")
        .get(pk=document.pk)
    )
    why = document_sign_refusal(document=document, by=by)
    if why:
        raise PermissionDenied(why)
    validation = report_validation(document)
    manifest = document_manifest(document, validation)
    try:
        with transaction.atomic():
            signature = DocumentSignature.objects.create(
                document=document,
                signer=by,
                printed_name=printed_name(by),
                signed_at=timezone.now(),
                meaning=DocumentSignature.Meaning.VALIDATED,
                manifest=manifest,
                manifest_hash=rules.manifest_hash(manifest),
                auth_method=auth_method,
            )
    except IntegrityError as exc:  # signed at the same moment in another request
        raise ValidationError(
            "This report was signed meanwhile; reload it.", code=CONFLICT
        ) from exc
    GeneratedDocument.objects.filter(pk=document.pk).update(
        stage="printing the signed report", percent=0
    )
    audit_record(
        action="document.signed",
        obj=document,
        actor=by,
        parent=document.model_version,
        reason="Validated",
        changes={"manifest_hash": [None, signature.manifest_hash]},
    )
    enqueue("documents.tasks.document_render", kwargs={"document_id": document.pk}, key=document.pk)
    return signature
