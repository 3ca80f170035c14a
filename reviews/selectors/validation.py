"""Reads of independent validation (issue 12): whether the policy requires one for a
version, who may validate it, the validation that counts, and what the missing
validation or its open findings block (read by the promotion request and the gate).

Independence, decided precisely. A person may record or sign a validation of a version
only if, at that moment, they
- hold the validator role;
- are not a member of the team that owns the use case;
- are not the use case's technical owner, nor an author or the registrant of the
  version;
- are not, in the use case's RACI, named (in person or through a team) for a role that
  is Responsible or Accountable for a development task (data preparation, data
  modeling, productionalization);
- and, when the second line has named people for the RACI's Validation role on the use
  case, are one of them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.permissions import AnyUser, has_role
from accounts.roles import VALIDATION_ROLES, Role
from core import finding_rules as fr
from core import policy_rules
from core import promotion_rules as rules
from core.memo import memoized
from governance.models import RaciAssignment
from governance.selectors.obligations import obligations_for_rules
from governance.selectors.policy import policy_finding_rules, policy_requirements_for
from inventory.models import ModelVersion
from reviews.models import Finding, Validation
from reviews.selectors.independence import developer_relation

# The moves that need a signed validation when the policy asks for one, and the move
# before which validation findings must be resolved or accepted.
VALIDATED_BEFORE = ("preprod", "prod")
FINDINGS_BEFORE = "prod"

policy_rules.register_consumer(
    "reviews.selectors.validation.validation_required", "human-signoff", "independent_validation"
)


def validation_required(version: ModelVersion) -> bool:
    """Whether the policy asks for an independent validation of ``version`` (the
    ``independent_validation`` parameter of its sign-off obligation, or of the
    published policy for its tier and regulations: a waived or not yet opened
    obligation does not lift it)."""
    use_case = version.model.use_case
    params = obligations_for_rules(use_case=use_case, version=version).get("human-signoff")
    if params and params.get("independent_validation"):
        return True
    if use_case.risk_tier is None:
        return False
    requirement = policy_requirements_for(
        tier=use_case.risk_tier,
        regulation_codes=list(use_case.regulations.values_list("code", flat=True)),
    ).get("human-signoff")
    return bool(requirement and requirement.parameters.get("independent_validation"))


def _named_for_validation(use_case) -> set[int]:
    return set(
        RaciAssignment.objects.filter(
            use_case=use_case, role__code="validation", user__isnull=False
        ).values_list("user_id", flat=True)
    )


def validator_refusal(user: AnyUser, version: ModelVersion) -> str | None:
    """Why ``user`` may not validate ``version`` now (see the module's docstring), or
    None when they may."""
    if not user.is_authenticated or not has_role(user, *VALIDATION_ROLES):
        if has_role(user, Role.DATA_SCIENTIST):
            return (
                "Data scientists develop models; a validation is recorded and signed by a "
                "validator from outside the developing team."
            )
        return "Only validators record and sign validations."
    relation = developer_relation(user, version)
    if relation:
        return (
            f"You are {relation}: a validation must come from outside the developing team; "
            "developers do not validate their own model."
        )
    named = _named_for_validation(version.model.use_case)
    if named and user.pk not in named:
        return (
            "The second line named other people for Validation in this use case's RACI; "
            "only they validate its versions."
        )
    return None


def validation_list(*, version: ModelVersion | None = None) -> QuerySet[Validation]:
    qs = Validation.objects.select_related(
        "model_version__model__use_case", "validator", "signature"
    )
    if version is not None:
        qs = qs.filter(model_version=version)
    return qs.order_by("-created_at", "-id")


def validation_get(*, pk: int) -> Validation:
    return validation_list().get(pk=pk)


def validation_current(version: ModelVersion) -> Validation | None:
    """The validation that counts for the version: its latest signed one."""
    return (
        Validation.objects.filter(model_version=version, signed_at__isnull=False)
        .select_related("validator", "signature")
        .order_by("-signed_at", "-id")
        .first()
    )


def validation_manifest(validation: Validation) -> dict:
    """What a validation's signature binds: the version and its artifact, and every
    field of the record (its findings included)."""
    version = validation.model_version
    return {
        "validation": validation.pk,
        "model_version": version.pk,
        "version_label": version.version_label,
        "artifact_sha256": version.artifact_sha256,
        "validator": validation.validator_id,
        "scope": validation.scope,
        "conceptual_soundness": validation.conceptual_soundness,
        "data": validation.data,
        "outcomes_analysis": validation.outcomes_analysis,
        "limitations": validation.limitations,
        "conclusion": validation.conclusion,
        "findings_raised": validation.findings_raised,
    }


def validation_findings_open(version: ModelVersion) -> QuerySet[Finding]:
    """Findings raised by a signed validation of the version that are neither verified
    nor closed (unresolved, or their risk accepted)."""
    return (
        Finding.objects.filter(
            model_version=version,
            status__in=[*fr.UNRESOLVED, fr.ACCEPTED],
            validation__isnull=False,
        )
        .prefetch_related("acceptances")
        .order_by("pk")
    )


def _finding_item(finding: Finding, today: date, rules_: dict) -> tuple[str, str] | None:
    if FINDINGS_BEFORE not in rules_[finding.severity].blocks:
        return None  # the policy lets a finding of this severity into production
    # The acceptances are prefetched (validation_findings_open): no query per finding.
    acceptances = sorted(finding.acceptances.all(), key=lambda a: (a.expires_on, a.pk))
    if any(a.expires_on >= today for a in acceptances):
        return None
    last = acceptances[-1] if acceptances else None
    if last is not None:
        why = (
            f"its risk acceptance by {last.printed_name} expired on {last.expires_on}; "
            "remediate it or have the second line accept it again"
        )
    else:
        why = "remediate it (verified by the second line), or have its risk accepted until a date"
    return (
        f"validation-finding:{finding.pk}",
        f"Validation finding #{finding.pk} ({finding.severity}) is "
        f"{finding.get_status_display().lower()} ({finding.title}): {why}, before production.",
    )


@memoized
def validation_blocking(
    version: ModelVersion, target_env: str, *, today: date | None = None
) -> list[tuple[str, str]]:
    """What stops ``version`` entering ``target_env`` for want of validation: (code,
    message) pairs, empty when nothing does. Read by the promotion request (extra
    blocking items, never waived) and the deployment gate.

    - where the policy requires it, a signed validation concluding approve or approve
      with conditions, for the artifact as registered, before preprod and prod;
    - the open findings of signed validations, unless their risk is accepted and the
      acceptance has not expired, before prod.
    """
    if target_env not in VALIDATED_BEFORE:
        return []
    items: list[tuple[str, str]] = []
    if validation_required(version):
        current = validation_current(version)
        if current is None:
            items.append(
                (
                    "validation:missing",
                    "The policy requires an independent validation of this version, signed "
                    "by a validator from outside the developing team, before preproduction; "
                    "none is signed.",
                )
            )
        elif not current.approves:
            items.append(
                (
                    "validation:rejected",
                    f"The validation signed by {current.validator.get_username()} on "
                    f"{current.signed_at:%Y-%m-%d} concluded reject; a new validation must "
                    "approve the version.",
                )
            )
        elif current.signature.manifest.get("artifact_sha256") != version.artifact_sha256:
            items.append(
                (
                    "validation:artifact-changed",
                    "The validated artifact is not the one registered now; validate it again.",
                )
            )
    if target_env == FINDINGS_BEFORE:
        today = today or timezone.localdate()
        severity_rules = policy_finding_rules()
        for finding in validation_findings_open(version):
            item = _finding_item(finding, today, severity_rules)
            if item:
                items.append(item)
    return items


def validation_blocking_items(version: ModelVersion, target_env: str) -> list:
    """``validation_blocking`` as ``core.promotion_rules.BlockingItem``s."""
    return [
        rules.BlockingItem(code, message)
        for code, message in validation_blocking(version, target_env)
    ]


def is_validation_item(code: str) -> bool:
    """Validation items are met by a validation or a risk acceptance, never waived."""
    return code.startswith(("validation:", "validation-finding:"))


# --- What a promotion signature binds of validation (issue 12) --------------------------


def validations_bound(version: ModelVersion, target_env: str) -> list[dict[str, Any]]:
    """The validation that gates a move into ``target_env``, as a signature on the
    request binds it (manifest format 3): the one that counts, with its conclusion and
    its own signature's hash. Empty when the policy asks for none, or the move is not
    one a validation gates. A validation signed later supersedes it and so changes it."""
    if target_env not in VALIDATED_BEFORE or not validation_required(version):
        return []
    current = validation_current(version)
    if current is None:
        return []
    signature = getattr(current, "signature", None)
    return [
        {
            "key": f"#{current.pk}",
            "conclusion": current.conclusion,
            "signature_hash": signature.manifest_hash if signature else "",
            "signed_at": current.signed_at.isoformat(),
        }
    ]


def _acceptance_current(finding: Finding, today: date):
    current = [a for a in finding.acceptances.all() if a.expires_on >= today]
    return max(current, key=lambda a: (a.expires_on, a.pk)) if current else None


def acceptances_bound(
    version: ModelVersion, target_env: str, *, today: date | None = None
) -> list[dict[str, Any]]:
    """The risk acceptances that let the open validation findings through a move into
    ``target_env`` (production only), keyed by finding as the manifest's findings are:
    one added or expired after signing changes them."""
    if target_env != FINDINGS_BEFORE:
        return []
    today = today or timezone.localdate()
    out = []
    for finding in validation_findings_open(version):
        acceptance = _acceptance_current(finding, today)
        if acceptance is not None:
            out.append(
                {
                    "key": f"#{finding.pk}",
                    "acceptance": acceptance.pk,
                    "expires_on": acceptance.expires_on.isoformat(),
                }
            )
    return out
