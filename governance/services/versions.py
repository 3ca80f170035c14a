"""Writes of version-scope obligations (issue 12): a version owes its own evidence of
what is about the model; evidence of an earlier version serves it only when the policy
allows it (``carry_over``) and the change was declared not material by the requester
and confirmed by the second line. The sign-off obligation is satisfied by the
signatures of the request that moved the version.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import has_role
from accounts.roles import Role
from accounts.sso.signing import Credential
from audit.services import audit_record
from core import obligation_rules, policy_rules
from governance.models import ChangeConfirmation, ChangeDeclaration, Obligation, ObligationEvent
from governance.services.obligations import _event
from governance.services.signing import (
    password_reconfirm,
    printed_name,
    reauthentication_record,
)
from inventory.models import ModelVersion
from inventory.permissions import can_write_for_team

policy_rules.register_consumer(
    "governance.services.versions.obligation_carry_over", None, "carry_over"
)

SECOND_LINE: tuple[str, ...] = (Role.RISK_OFFICER, Role.GOVERNANCE_LEAD)


def _previous_evidence(obligation: Obligation, previous: ModelVersion) -> Obligation | None:
    """The accepted obligation of ``previous`` on the same consideration whose measure
    is at least as strict and whose evidence covers what this one asks for."""
    code = obligation.consideration.code
    for old in Obligation.objects.filter(
        model_version=previous, consideration=obligation.consideration, status="accepted"
    ).order_by("-active", "-id"):
        if policy_rules.level_rank(old.level) < policy_rules.level_rank(obligation.level):
            continue
        if obligation_rules.uncovered(code, obligation.parameters, old.evidence_covers or []):
            continue
        if not (old.evidence_sha256 or old.evidence_link):
            continue
        return old
    return None


def obligation_carry_over(*, obligation: Obligation, by: User | None) -> bool:
    """Accept an open version-scope obligation on the evidence of the previous version,
    when the policy's ``carry_over`` allows it and the version's change declaration is
    confirmed. The evidence keeps the version and artifact it was produced for. Returns
    whether it carried over; writes nothing otherwise."""
    if obligation.model_version_id is None or obligation.status != Obligation.Status.OPEN:
        return False
    if not (obligation.parameters or {}).get("carry_over"):
        return False
    declaration = (
        ChangeDeclaration.objects.filter(
            model_version_id=obligation.model_version_id, confirmation__isnull=False
        )
        .select_related("confirmation__confirmed_by")
        .first()
    )
    if declaration is None:
        return False
    old = _previous_evidence(obligation, declaration.previous)
    if old is None:
        return False
    for f in (
        "evidence_link",
        "evidence_file",
        "evidence_name",
        "evidence_sha256",
        "evidence_size",
        "evidence_by",
        "evidence_at",
        "evidence_covers",
    ):
        setattr(obligation, f, getattr(old, f))
    obligation.evidence_version_id = old.evidence_version_id or old.model_version_id
    obligation.evidence_artifact_sha256 = old.evidence_artifact_sha256
    obligation.status = Obligation.Status.ACCEPTED
    obligation.full_clean()
    obligation.save()
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.CARRIED_OVER,
        by=by,
        detail={
            "from_obligation": old.pk,
            "from_version": obligation.evidence_version_id,
            "sha256": obligation.evidence_sha256,
            "declaration": declaration.pk,
            "confirmed_by": declaration.confirmation.confirmed_by.get_username(),
        },
        reason=f"Change declared not material: {declaration.note}",
    )
    return True


@transaction.atomic
def change_declare(
    *,
    version: ModelVersion,
    previous: ModelVersion,
    by: User,
    same_training_data: bool,
    same_features: bool,
    note: str,
) -> ChangeDeclaration:
    """Declare that ``version`` changes nothing material from ``previous`` (an earlier
    version of the same model): the same training data and the same features.

    Raises PermissionDenied unless ``by`` may change the use case's versions;
    ValidationError when the change is material by the declaration or by the inventory
    (different training data recorded), when ``previous`` is not an earlier version of
    the same model, or when the version already has a declaration.
    """
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("model__use_case")
        .get(pk=version.pk)
    )
    if not can_write_for_team(by, version.model.use_case.team):
        raise PermissionDenied("Only the use case's team or a governance lead can declare this.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what changed between the two versions."})
    if previous.model_id != version.model_id or previous.pk == version.pk:
        raise ValidationError({"previous": "Name an earlier version of the same model."})
    if previous.registered_at > version.registered_at:
        raise ValidationError({"previous": "Name an earlier version of the same model."})
    if not (same_training_data and same_features):
        raise ValidationError(
            "A change of training data or features is material: the new version owes "
            "its own evidence."
        )
    if (version.training_dataset_id, version.training_data_ref) != (
        previous.training_dataset_id,
        previous.training_data_ref,
    ):
        raise ValidationError(
            {
                "same_training_data": "The inventory records different training data for the "
                "two versions; the change is material."
            }
        )
    if ChangeDeclaration.objects.filter(model_version=version).exists():
        raise ValidationError("This version already has a change declaration.")
    declaration = ChangeDeclaration(
        model_version=version,
        previous=previous,
        same_training_data=True,
        same_features=True,
        note=note,
        declared_by=by,
        declared_at=timezone.now(),
    )
    declaration.full_clean()
    declaration.save()
    return declaration


def change_confirmers() -> tuple[str, ...]:
    """The roles that confirm a declared change: the second line, and validators where
    the product has that role (independent validation)."""
    validator = getattr(Role, "VALIDATOR", None)
    return (*SECOND_LINE, validator) if validator else SECOND_LINE


def change_confirm_refusal(*, declaration: ChangeDeclaration, by: User) -> str | None:
    """Why ``by`` may not confirm ``declaration`` (None when they may): for the page, to
    offer the form only to those who may sign."""
    if not has_role(by, *change_confirmers()):
        return "Only a risk officer, a governance lead or a validator confirms a change."
    version = declaration.model_version
    if by.pk == declaration.declared_by_id or version.authors.filter(pk=by.pk).exists():
        return "The declarer and the version's authors cannot confirm it."
    if ChangeConfirmation.objects.filter(declaration=declaration).exists():
        return "This declaration is already confirmed; a confirmation is never changed."
    return None


def change_confirm(
    *,
    declaration: ChangeDeclaration,
    by: User,
    password: Credential,
    note: str = "",
    via_token: bool = False,
) -> dict:
    """The second line (a risk officer, a governance lead or a validator; never the
    declarer or an author of the version) signs that a declared change is not material:
    the password typed now, never an API token. Writes one append-only
    ``ChangeConfirmation``; the version's open obligations whose policy allows it then
    take the previous version's accepted evidence. Returns {"carried_over": n}.

    Raises PermissionDenied for a token, anyone outside those roles, the declarer or an
    author (audited as ``change_declaration.confirm_refused``), or while signing is
    locked; ValidationError for a wrong password (audited) or a declaration confirmed
    already. Nothing is written on a refusal but its audit event.
    """
    why = (
        "An API token cannot sign: sign in the browser and re-enter your password."
        if via_token
        else change_confirm_refusal(declaration=declaration, by=by)
    )
    if why is not None:
        already = why.startswith("This declaration is already confirmed")
        if not already:
            audit_record(
                action="change_declaration.confirm_refused",
                obj=declaration,
                actor=by,
                reason=why,
            )
            raise PermissionDenied(why)
        raise ValidationError(why)
    reauth = password_reconfirm(
        user=by,
        password=password,
        what=f"confirm change declaration #{declaration.pk}",
        refused_action="change_declaration.password_refused",
        fields={"note": (note or "").strip()},
    )
    with transaction.atomic():
        declaration = ChangeDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if ChangeConfirmation.objects.filter(declaration=declaration).exists():
            raise ValidationError("This declaration was confirmed meanwhile.")
        confirmation = ChangeConfirmation(
            declaration=declaration,
            confirmed_by=by,
            printed_name=printed_name(by),
            confirmed_at=timezone.now(),
            note=(note or "").strip(),
            auth_method=reauth.short_method,
        )
        confirmation.full_clean()
        confirmation.save()
        reauthentication_record(reauth, obj=declaration, by=by, signature=confirmation.pk)
        carried = 0
        for obligation in Obligation.objects.filter(
            model_version=declaration.model_version, active=True, status=Obligation.Status.OPEN
        ).select_related("consideration"):
            carried += obligation_carry_over(obligation=obligation, by=by)
        audit_record(
            action="change_declaration.confirmed",
            obj=declaration,
            actor=by,
            reason=confirmation.note,
            changes={"carried_over": [None, carried]},
        )
    return {"carried_over": carried}


@transaction.atomic
def obligation_signoff_satisfied(*, version: ModelVersion, request_id: int) -> bool:
    """The human-signoff obligation of ``version`` is met by the signatures of the
    approved request ``request_id``: it turns accepted (recorded as an event of the
    system, naming the request). Returns whether it changed."""
    obligation = (
        Obligation.objects.select_for_update(of=("self",))
        .filter(model_version=version, consideration__code="human-signoff", active=True)
        .exclude(status__in=[Obligation.Status.ACCEPTED, Obligation.Status.WAIVED])
        .first()
    )
    if obligation is None:
        return False
    previous = obligation.status
    obligation.status = Obligation.Status.ACCEPTED
    obligation.evidence_version = version
    obligation.evidence_artifact_sha256 = version.artifact_sha256
    obligation.full_clean()
    obligation.save(update_fields=["status", "evidence_version", "evidence_artifact_sha256"])
    _event(
        obligation=obligation,
        kind=ObligationEvent.Kind.ACCEPTED,
        by=None,
        detail={"from": previous, "to": obligation.status, "request": request_id},
        reason=f"Satisfied by the signatures of approved request #{request_id}.",
    )
    return True


def version_registered(*, version: ModelVersion, by: User | None) -> None:
    """A new version owes its own version-scope obligations: open them now (the
    inventory calls this in the registration's transaction)."""
    from governance.services.obligations import obligations_recompute

    obligations_recompute(
        use_case=version.model.use_case, by=by, reason=f"Version {version} was registered."
    )
