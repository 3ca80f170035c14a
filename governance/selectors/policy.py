"""Reads of Step 4: considerations and measures, policy versions and their cells,
diffs, the regulations' requirements, and the merged requirements for a tier and a
set of regulations (what Step 5's obligations are computed from)."""

from typing import Any, NamedTuple

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from core import finding_rules, policy_rules
from core.memo import memoized
from governance.models import (
    Consideration,
    Measure,
    Policy,
    PolicyCell,
    PolicyFindingRule,
    PolicyVersion,
    Requirement,
    RequirementMinimum,
)
from inventory.choices import RiskTier

DEFAULT_POLICY_CODE = "organisation"


class PolicyRequirement(NamedTuple):
    """What a use case owes on one consideration, and why."""

    level: str
    text: str
    parameters: dict[str, Any]
    why: str


def consideration_list() -> QuerySet[Consideration]:
    """The considerations in order, with their measures prefetched."""
    return Consideration.objects.prefetch_related(
        Prefetch("measures", queryset=Measure.objects.order_by("id"))
    )


@memoized
def consideration_choices() -> list[tuple[str, str]]:
    return list(Consideration.objects.order_by("order", "id").values_list("code", "name"))


@memoized
def measure_map() -> dict[tuple[str, str], Measure]:
    """Every measure by (consideration code, level)."""
    return {
        (m.consideration.code, m.level): m for m in Measure.objects.select_related("consideration")
    }


def measure_levels() -> list[dict[str, Any]]:
    """The four levels, least strict first, with their rank."""
    return [
        {"code": level, "label": policy_rules.LEVEL_LABELS[level], "rank": rank}
        for level, rank in policy_rules.LEVEL_RANK.items()
    ]


def policy_list() -> QuerySet[Policy]:
    """Policies with the ids of their latest published version and of their draft
    (annotated ``latest_published_id`` and ``draft_id``), in one query."""
    versions = PolicyVersion.objects.filter(policy=OuterRef("pk"))
    published = versions.filter(status=PolicyVersion.Status.PUBLISHED).order_by("-number")
    draft = versions.filter(status=PolicyVersion.Status.DRAFT).order_by("-number")
    return Policy.objects.annotate(
        latest_published_id=Subquery(published.values("pk")[:1]),
        draft_id=Subquery(draft.values("pk")[:1]),
    )


@memoized
def policy_default() -> Policy | None:
    """The organisation's policy (the one shipped by the migration, else the first)."""
    return Policy.objects.filter(code=DEFAULT_POLICY_CODE).first() or Policy.objects.first()


def policy_version_list(*, policy: Policy | None = None) -> QuerySet[PolicyVersion]:
    """Versions, newest first (the draft on top), with their cells prefetched."""
    qs = PolicyVersion.objects.select_related(
        "policy", "created_by", "published_by", "based_on"
    ).prefetch_related(
        Prefetch(
            "cells",
            queryset=PolicyCell.objects.select_related("consideration").order_by(
                "tier", "consideration__order", "consideration_id"
            ),
        )
    )
    if policy is not None:
        qs = qs.filter(policy=policy)
    return qs.order_by("policy_id", "status", "-number", "-id")


def policy_version_get(*, pk: int) -> PolicyVersion:
    """Raises PolicyVersion.DoesNotExist."""
    return policy_version_list().get(pk=pk)


@memoized
def policy_published_latest(*, policy: Policy | None = None) -> PolicyVersion | None:
    """The latest published version of a policy (default: the organisation's)."""
    policy = policy or policy_default()
    if policy is None:
        return None
    return (
        policy_version_list(policy=policy)
        .filter(status=PolicyVersion.Status.PUBLISHED)
        .order_by("-number")
        .first()
    )


def policy_finding_rule_rows(version: PolicyVersion | None) -> dict[str, dict[str, Any]]:
    """A version's finding rules as {severity: row}, the product's defaults for any
    severity it has no row for (a version published before finding rules existed)."""
    rows = {s: r.to_dict() for s, r in finding_rules.DEFAULT_RULES.items()}
    if version is not None:
        for rule in PolicyFindingRule.objects.filter(version=version):
            rows[rule.severity] = {"severity": rule.severity, **rule.as_row()}
    return {s: {k: v for k, v in rows[s].items() if k != "severity"} for s in rows}


@memoized
def policy_finding_rules(
    version: PolicyVersion | None = None,
) -> dict[str, finding_rules.SeverityRule]:
    """What the policy says about findings, per severity: the latest published
    version's rules (default), or ``version``'s."""
    if version is None:
        version = policy_published_latest()
    return finding_rules.rules_from_rows(policy_finding_rule_rows(version))


ENGAGEMENT_FIELDS = (
    "attestation_roles",
    "attestation_days",
    "training_grace_days",
    "lapsed_may_sign",
)


def policy_engagement_row(version: PolicyVersion | None) -> dict[str, Any]:
    """What a version says about attestations and training (issue 16, Step 7); the
    product's defaults when no version is published."""
    if version is None:
        version = PolicyVersion()
    row = {name: getattr(version, name) for name in ENGAGEMENT_FIELDS}
    row["attestation_roles"] = sorted(row["attestation_roles"])
    return row


@memoized
def policy_engagement() -> dict[str, Any]:
    """The latest published version's attestation and training settings (asked by every
    approving signature: one query, the four columns only)."""
    row = (
        PolicyVersion.objects.filter(policy=policy_default(), status=PolicyVersion.Status.PUBLISHED)
        .order_by("-number")
        .values(*ENGAGEMENT_FIELDS)
        .first()
    )
    if row is None:
        return policy_engagement_row(None)
    row["attestation_roles"] = sorted(row["attestation_roles"])
    return row


def policy_draft(*, policy: Policy) -> PolicyVersion | None:
    return policy_version_list(policy=policy).filter(status=PolicyVersion.Status.DRAFT).first()


def _cell_measures(version: PolicyVersion) -> dict[tuple[int, str], tuple[str, dict]]:
    """{(tier, consideration code): (text, parameters)} of a version: the frozen copy
    for a published version, the measure catalogue's current one for a draft."""
    measures = measure_map() if version.status != PolicyVersion.Status.PUBLISHED else {}
    result = {}
    for cell in version.cells.all():
        if version.status == PolicyVersion.Status.PUBLISHED:
            result[(cell.tier, cell.consideration.code)] = (cell.text, dict(cell.parameters))
        else:
            measure = measures.get((cell.consideration.code, cell.level))
            result[(cell.tier, cell.consideration.code)] = (
                (measure.text, dict(measure.parameters)) if measure else ("", {})
            )
    return result


def policy_version_cells(version: PolicyVersion) -> dict[tuple[int, str], str]:
    """{(tier, consideration code): level} (uses prefetched cells when present)."""
    return {(c.tier, c.consideration.code): c.level for c in version.cells.all()}


def policy_version_matrix(version: PolicyVersion) -> list[dict[str, Any]]:
    """The matrix as rows (one per consideration) of cells (one per tier, Low first),
    each with its level and measure text, for tables and forms."""
    cells = policy_version_cells(version)
    frozen = _cell_measures(version)
    rows = []
    for consideration in Consideration.objects.order_by("order", "id"):
        row_cells = []
        for tier, tier_label in RiskTier.choices:
            level = cells.get((tier, consideration.code))
            text, parameters = frozen.get((tier, consideration.code), ("", {}))
            row_cells.append(
                {
                    "tier": tier,
                    "tier_label": tier_label,
                    "level": level,
                    "level_label": policy_rules.LEVEL_LABELS.get(level, "") if level else "",
                    "text": text,
                    "parameters": parameters,
                }
            )
        rows.append({"consideration": consideration, "cells": row_cells})
    return rows


def policy_version_diff(*, old: PolicyVersion, new: PolicyVersion) -> list[dict[str, Any]]:
    """The cells that changed from ``old`` to ``new``, with labels and measure texts."""
    names = dict(consideration_choices())
    tiers = dict(RiskTier.choices)
    frozen = {"old": _cell_measures(old), "new": _cell_measures(new)}

    def describe(side: str, tier: int, code: str, level: str | None) -> dict[str, Any]:
        return {
            "level": level,
            "label": policy_rules.LEVEL_LABELS.get(level, "—") if level else "—",
            "text": frozen[side].get((tier, code), ("", {}))[0] if level else "",
        }

    return [
        {
            "tier": change.tier,
            "tier_label": tiers.get(change.tier, str(change.tier)),
            "consideration": change.consideration,
            "consideration_name": names.get(change.consideration, change.consideration),
            "before": describe("old", change.tier, change.consideration, change.before),
            "after": describe("new", change.tier, change.consideration, change.after),
        }
        for change in policy_rules.diff_matrices(
            policy_version_cells(old), policy_version_cells(new)
        )
    ]


def requirement_list() -> QuerySet[Requirement]:
    """Regulations' requirements with their minimums (and considerations)."""
    return Requirement.objects.select_related("regulation").prefetch_related(
        Prefetch(
            "minimums",
            queryset=RequirementMinimum.objects.select_related("consideration").order_by(
                "consideration__order", "id"
            ),
        )
    )


@memoized
def policy_requirements_for(
    *,
    tier: int,
    regulation_codes: list[str] | tuple[str, ...] | set[str] = (),
    version: PolicyVersion | None = None,
) -> dict[str, PolicyRequirement]:
    """What a use case of ``tier`` under ``regulation_codes`` owes, per consideration.

    For each consideration, the stricter of the policy cell (latest published version
    unless ``version`` is given) and the minimums of the regulations' requirements;
    ``why`` names the policy cell or the requirement(s) that raised it. Returns {} when
    no policy is published. Unknown regulation codes are ignored.
    """
    version = version or policy_published_latest()
    if version is None:
        return {}
    cells = policy_version_cells(version)
    policy_levels = {code: level for (t, code), level in cells.items() if t == tier}
    tier_label = RiskTier(tier).label if tier in RiskTier.values else str(tier)
    minimums = [
        policy_rules.Minimum(
            consideration=m.consideration.code,
            level=m.min_level,
            source=f"{requirement.regulation.name} ({requirement.code}: {requirement.text})",
        )
        for requirement in requirement_list().filter(regulation__code__in=list(regulation_codes))
        for m in requirement.minimums.all()
    ]
    decisions = policy_rules.merge_requirements(
        policy_levels,
        minimums,
        policy_label=f"Policy {version.label}, {tier_label} tier",
    )
    frozen = _cell_measures(version)
    measures = None
    order = {code: i for i, code in enumerate(c for c, _ in consideration_choices())}
    result = {}
    for code in sorted(decisions, key=lambda c: order.get(c, len(order))):
        decision = decisions[code]
        if policy_levels.get(code) == decision.level and (tier, code) in frozen:
            # The policy cell decides: what the version froze at publication.
            text, parameters = frozen[(tier, code)]
        else:
            # A regulation raised it: the catalogue's measure for that level (the
            # catalogue is read only then: issue 13).
            measures = measure_map() if measures is None else measures
            measure = measures.get((code, decision.level))
            text, parameters = (measure.text, dict(measure.parameters)) if measure else ("", {})
        result[code] = PolicyRequirement(
            level=decision.level, text=text, parameters=parameters, why=decision.why
        )
    return result
