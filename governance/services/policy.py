"""Writes of Step 4: policy drafts, their cells, and publishing.

A published version is never edited: a governance lead creates a draft (a copy of
the latest published version), edits its cells and proposes it for publication with
a note (``framework_changes.policy_publish_propose``); it is published when a second
lead signs the approval, gets the next number and is immutable from then on (the
models refuse too). Only one draft per policy exists at a time; a proposed draft
cannot be edited or discarded until the proposal is withdrawn or decided.
"""

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import is_governance_lead
from accounts.roles import Role
from core import engagement_rules, finding_rules, policy_rules
from governance.models import (
    Consideration,
    FrameworkChange,
    Policy,
    PolicyCell,
    PolicyFindingRule,
    PolicyVersion,
)
from governance.selectors.policy import (
    consideration_choices,
    policy_engagement_row,
    policy_finding_rule_rows,
)
from inventory.choices import RiskTier


def _require_lead(user: User) -> None:
    if not is_governance_lead(user):
        raise PermissionDenied("Only governance leads can change policies.")


def _locked_draft(version: PolicyVersion) -> PolicyVersion:
    """Re-read the version under a row lock and check that it is a draft that is not
    proposed for publication (a proposal's content never changes: withdraw it, edit,
    and propose again)."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise ValidationError(
            f"Version {version.label} is published and cannot be changed; create a draft.",
            code=CONFLICT,
        )
    pending = FrameworkChange.objects.filter(policy_version=version, decision__isnull=True).first()
    if pending is not None:
        raise ValidationError(
            f"This draft is proposed for publication (proposal #{pending.pk}); withdraw "
            "the proposal to change it, then propose it again."
        )
    return version


@transaction.atomic
def policy_draft_create(*, policy: Policy, by: User) -> PolicyVersion:
    """Start a draft of a policy, a copy of its latest published version (empty when
    none is published).

    Raises PermissionDenied for anyone but a governance lead, ValidationError when the
    policy already has a draft.
    """
    _require_lead(by)
    Policy.objects.select_for_update().get(pk=policy.pk)
    if PolicyVersion.objects.filter(policy=policy, status=PolicyVersion.Status.DRAFT).exists():
        raise ValidationError("This policy already has a draft: edit or publish it first.")
    base = (
        PolicyVersion.objects.filter(policy=policy, status=PolicyVersion.Status.PUBLISHED)
        .order_by("-number")
        .first()
    )
    draft = PolicyVersion(
        policy=policy,
        status=PolicyVersion.Status.DRAFT,
        based_on=base,
        created_by=by,
        created_at=timezone.now(),
    )
    if base is not None:
        for name, value in policy_engagement_row(base).items():
            setattr(draft, name, value)
    draft.full_clean()
    draft.save()
    if base is not None:
        PolicyCell.objects.bulk_create(
            PolicyCell(
                version=draft, tier=c.tier, consideration_id=c.consideration_id, level=c.level
            )
            for c in base.cells.all()
        )
    finding_rules_write(draft, policy_finding_rule_rows(base))
    return draft


def finding_rules_write(version: PolicyVersion, rows: Mapping[str, Mapping]) -> None:
    existing = {r.severity: r for r in version.finding_rules.all()}
    for severity in finding_rules.SEVERITIES:
        row = rows[severity]
        rule = existing.get(severity) or PolicyFindingRule(version=version, severity=severity)
        rule.remediation_days = row["remediation_days"]
        rule.acceptance_authority = row["acceptance_authority"]
        rule.acceptance_max_days = row["acceptance_max_days"]
        rule.blocks = [m for m in finding_rules.MOVES if m in row["blocks"]]
        rule.full_clean()
        rule.save()


@transaction.atomic
def policy_finding_rules_set(
    *, version: PolicyVersion, rules: Mapping[str, Mapping], by: User
) -> PolicyVersion:
    """Set what a draft says about findings of some severities ({severity:
    {remediation_days, acceptance_authority, acceptance_max_days, blocks}}); the other
    severities keep theirs. The whole set is checked (``core.finding_rules``): a higher
    severity never gets longer to remediate, a lower accepting authority or fewer
    blocked moves than a lower one. PermissionDenied for anyone but a governance lead;
    ValidationError (under ``finding_rules``) for a published or proposed version or a
    bad rule. Nothing is written on any refusal."""
    _require_lead(by)
    version = _locked_draft(version)
    if not rules:
        raise ValidationError({"finding_rules": ["Give at least one severity's rule."]})
    merged = policy_finding_rule_rows(version)
    for severity, row in rules.items():
        merged[severity] = dict(row)
    errors = finding_rules.validate_rules(merged)
    if errors:
        raise ValidationError(errors)
    finding_rules_write(version, merged)
    return version


@transaction.atomic
def policy_engagement_set(
    *,
    version: PolicyVersion,
    attestation_roles: list[str],
    attestation_days: int,
    training_grace_days: int,
    lapsed_may_sign: bool,
    by: User,
) -> PolicyVersion:
    """Set what a draft says about attestations and training (issue 16, Step 7): the
    roles that must acknowledge a publication, the days they have, the days to complete
    newly required training, and whether a lapsed person may still sign.
    PermissionDenied for anyone but a governance lead; ValidationError for a published
    or proposed version or a bad value. Nothing is written on any refusal."""
    _require_lead(by)
    version = _locked_draft(version)
    errors = engagement_rules.validate_engagement(
        attestation_days=attestation_days,
        training_grace_days=training_grace_days,
        roles=attestation_roles,
        known_roles=Role.values,
    )
    if errors:
        raise ValidationError(errors)
    version.attestation_roles = sorted(set(attestation_roles))
    version.attestation_days = attestation_days
    version.training_grace_days = training_grace_days
    version.lapsed_may_sign = bool(lapsed_may_sign)
    version.full_clean()
    version.save()
    return version


def _clean_cells(
    cells: Mapping[tuple[int, str], str | None],
) -> tuple[dict[tuple[int, str], str], dict[str, list[str]]]:
    names = dict(consideration_choices())
    tiers = dict(RiskTier.choices)
    clean: dict[tuple[int, str], str] = {}
    errors: list[str] = []
    for (tier, code), level in cells.items():
        tier_label = tiers.get(tier)
        if tier_label is None:
            errors.append(f"Unknown risk tier {tier!r}: use one of {', '.join(map(str, tiers))}.")
            continue
        if code not in names:
            errors.append(f"Unknown consideration {code!r}.")
            continue
        if not level:
            errors.append(f"{tier_label} × {names[code]}: the cell names no measure.")
            continue
        if level not in policy_rules.LEVEL_RANK:
            errors.append(
                f"{tier_label} × {names[code]}: unknown measure level {level!r} "
                f"(use one of {', '.join(policy_rules.LEVELS)})."
            )
            continue
        clean[(tier, code)] = level
    return clean, {"cells": errors} if errors else {}


@transaction.atomic
def policy_cells_set(
    *, version: PolicyVersion, cells: Mapping[tuple[int, str], str | None], by: User
) -> PolicyVersion:
    """Set the measure level of one or more cells of a draft.

    Args:
        cells: {(tier, consideration code): level}.

    Raises PermissionDenied for anyone but a governance lead; ValidationError (under
    ``cells``) for a published version, an unknown tier, consideration or level, or a
    cell that names no measure. Nothing is written when any cell is refused.
    """
    _require_lead(by)
    version = _locked_draft(version)
    if not cells:
        raise ValidationError({"cells": ["Give at least one cell."]})
    clean, errors = _clean_cells(cells)
    if errors:
        raise ValidationError(errors)
    ids = dict(Consideration.objects.values_list("code", "id"))
    existing = {(c.tier, c.consideration_id): c for c in version.cells.all()}
    for (tier, code), level in clean.items():
        cell = existing.get((tier, ids[code])) or PolicyCell(
            version=version, tier=tier, consideration_id=ids[code]
        )
        cell.level = level
        cell.full_clean()
        cell.save()
    return version


@transaction.atomic
def policy_draft_discard(*, version: PolicyVersion, by: User) -> None:
    """Delete a draft and its cells. Raises ValidationError for a published version."""
    _require_lead(by)
    version = _locked_draft(version)
    version.delete()
