"""The content of framework changes: what a proposal holds, checked when proposed,
and applied exactly as proposed when a second lead approves.

One function per kind builds the content from the target as it is now (to compare
with what was proposed) and one applies it. Called by
``governance.services.framework_changes`` only.
"""

import hashlib
import json
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone

from core import ethics_rules, finding_rules, policy_rules, risk_engine
from governance.models import (
    EthicsAnswerSet,
    EthicsApproval,
    EthicsTemplateVersion,
    PolicyCell,
    PolicyVersion,
    RiskQuestion,
    RiskRule,
    RiskRuleCondition,
)
from governance.selectors import ethics_question_list, risk_question_as_engine
from governance.selectors.policy import (
    consideration_choices,
    measure_map,
    policy_engagement_row,
    policy_finding_rule_rows,
    policy_version_cells,
)
from governance.services.policy import finding_rules_write
from inventory.choices import Criticality, RiskTier


def content_sha256(content: Any) -> str:
    """The SHA-256 of a content's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- policy publication ---------------------------------------------------------------


def policy_publish_content(*, version: PolicyVersion, note: str) -> dict:
    """What publishing a draft would freeze: every cell's level, text and parameters
    (from the measure catalogue now), and the note. Raises ValidationError for a
    missing note, an empty policy or a cell that names no measure."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say what changed and why (the change note)."]})
    problems = policy_rules.validate_matrix(
        policy_version_cells(version),
        tiers=RiskTier.choices,
        considerations=consideration_choices(),
    )
    if problems:
        raise ValidationError({"cells": problems})
    measures = measure_map()
    cells = []
    for cell in version.cells.select_related("consideration").order_by(
        "tier", "consideration__code"
    ):
        measure = measures[(cell.consideration.code, cell.level)]
        cells.append(
            [cell.tier, cell.consideration.code, cell.level, measure.text, dict(measure.parameters)]
        )
    rules = policy_finding_rule_rows(version)
    problems = finding_rules.validate_rules(rules)
    if problems:
        raise ValidationError(problems)
    return {
        "policy_version": version.pk,
        "note": note,
        "cells": cells,
        "finding_rules": rules,
        "engagement": policy_engagement_row(version),
    }


def policy_cells_levels(version: PolicyVersion) -> list[list]:
    """A draft's cells as [tier, consideration code, level], in a stable order."""
    return [
        [tier, code, level]
        for tier, code, level in version.cells.order_by("tier", "consideration__code").values_list(
            "tier", "consideration__code", "level"
        )
    ]


def policy_publish_apply(*, content: dict, by: User) -> PolicyVersion:
    """Publish the draft exactly as proposed. Raises ValidationError when the draft is
    gone, published, or its cells differ from the proposal."""
    version = PolicyVersion.objects.select_for_update().filter(pk=content["policy_version"]).first()
    if version is None or version.status != PolicyVersion.Status.DRAFT:
        raise ValidationError("The proposed draft is no longer a draft; nothing was published.")
    if policy_cells_levels(version) != [c[:3] for c in content["cells"]]:
        raise ValidationError("The draft's cells changed since it was proposed; propose it again.")
    # Proposals made before finding rules carry none.
    if "finding_rules" in content and policy_finding_rule_rows(version) != content["finding_rules"]:
        raise ValidationError(
            "The draft's finding rules changed since it was proposed; propose it again."
        )
    if "engagement" in content and policy_engagement_row(version) != content["engagement"]:
        raise ValidationError(
            "The draft's attestation and training settings changed since it was proposed; "
            "propose it again."
        )
    finding_rules_write(version, policy_finding_rule_rows(version))
    frozen = {(c[0], c[1]): (c[3], c[4]) for c in content["cells"]}
    cells = list(version.cells.select_related("consideration"))
    for cell in cells:
        cell.text, cell.parameters = frozen[(cell.tier, cell.consideration.code)]
    PolicyCell.objects.bulk_update(cells, ["text", "parameters"])
    latest = PolicyVersion.objects.filter(policy_id=version.policy_id).aggregate(n=Max("number"))
    version.number = (latest["n"] or 0) + 1
    version.status = PolicyVersion.Status.PUBLISHED
    version.published_by = by
    version.published_at = timezone.now()
    version.change_note = content["note"]
    version.full_clean()
    try:
        version.save()
    except IntegrityError as exc:  # a concurrent publish took the number
        raise ValidationError("Another version was published meanwhile; try again.") from exc
    from governance.services.obligations import obligations_recompute_later

    obligations_recompute_later(
        use_case=None, by=by, reason=f"Policy {version.label} published: {content['note']}"
    )
    return version


# --- classification rules -------------------------------------------------------------

RULE_FIELDS = ("name", "explanation", "min_criticality", "min_tier", "order", "active")


def risk_rule_content(rule: RiskRule) -> dict:
    """A rule as it is now, in the form proposals hold."""
    return {
        "name": rule.name,
        "explanation": rule.explanation,
        "min_criticality": rule.min_criticality,
        "min_tier": rule.min_tier,
        "order": rule.order,
        "active": rule.active,
        "conditions": [
            {"question": c.question.code, "operator": c.operator, "values": list(c.values)}
            for c in rule.conditions.select_related("question").order_by("id")
        ],
    }


def _int_choice(value, choices, field: str, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in dict(choices):
        errors[field] = f"Use one of {', '.join(str(v) for v, _ in choices)}, or leave it empty."
        return None
    return value


def _clean_conditions(raw, errors: dict) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        errors["conditions"] = "A rule needs at least one condition."
        return []
    questions = {q.code: q for q in RiskQuestion.objects.prefetch_related("options")}
    clean, problems = [], []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Condition {i}: give question, operator and values.")
            continue
        question = questions.get(item.get("question"))
        operator = item.get("operator")
        values = item.get("values") or []
        if question is None:
            problems.append(f"Condition {i}: unknown question {item.get('question')!r}.")
            continue
        if operator not in RiskRuleCondition.Operator.values:
            problems.append(f"Condition {i}: unknown operator {operator!r}.")
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(f"Condition {i}: values must be a list of option codes.")
            continue
        found = risk_engine.validate_condition(
            risk_engine.Condition(question.code, operator, tuple(values)),
            risk_question_as_engine(question),
        )
        problems += [f"Condition {i}: {p}" for p in found]
        clean.append({"question": question.code, "operator": operator, "values": values})
    if problems:
        errors["conditions"] = " ".join(problems)
    return clean


def risk_rule_clean_content(raw: Any) -> dict:
    """Check a proposed rule and return it in canonical form. Raises ValidationError
    keyed by field."""
    if not isinstance(raw, dict):
        raise ValidationError({"content": "Give the rule as an object."})
    errors: dict[str, str] = {}
    name = str(raw.get("name") or "").strip()
    explanation = str(raw.get("explanation") or "").strip()
    if not name:
        errors["name"] = "A rule needs a name."
    if not explanation:
        errors["explanation"] = "Say why the rule raises the class (shown to users)."
    min_criticality = _int_choice(
        raw.get("min_criticality"), Criticality.choices, "min_criticality", errors
    )
    min_tier = _int_choice(raw.get("min_tier"), RiskTier.choices, "min_tier", errors)
    if min_criticality is None and min_tier is None and not errors:
        errors["min_tier"] = "A rule must raise the criticality level, the tier, or both."
    order = raw.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        errors["order"] = "Give a whole number from 0."
    active = raw.get("active", True)
    if not isinstance(active, bool):
        errors["active"] = "Give true or false."
    conditions = _clean_conditions(raw.get("conditions"), errors)
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "explanation": explanation,
        "min_criticality": min_criticality,
        "min_tier": min_tier,
        "order": order,
        "active": active,
        "conditions": conditions,
    }


def risk_rule_apply(*, content: dict, rule: RiskRule | None, by: User) -> RiskRule:
    """Create the rule, or set it to exactly the proposed content (its conditions are
    replaced). Each write is captured by the audit trail."""
    if rule is None:
        rule = RiskRule()
    for field in RULE_FIELDS:
        setattr(rule, field, content[field])
    rule.updated_by = by
    rule.full_clean()
    rule.save()
    current = risk_rule_content(rule)["conditions"]
    if current != content["conditions"]:
        for condition in list(rule.conditions.all()):
            condition.delete()
        codes = dict(RiskQuestion.objects.values_list("code", "id"))
        for item in content["conditions"]:
            condition = RiskRuleCondition(
                rule=rule,
                question_id=codes[item["question"]],
                operator=item["operator"],
                values=item["values"],
            )
            condition.full_clean()
            condition.save()
    return rule


# --- the organisation's ethical position -------------------------------------------------


def ethics_position_apply(*, answer_set: EthicsAnswerSet, by: User, note: str) -> EthicsApproval:
    """Make an organisation answer set the position (its ``EthicsApproval``). Raises
    ValidationError when it is approved already or a newer set was proposed."""
    if EthicsApproval.objects.filter(answer_set=answer_set).exists():
        raise ValidationError("This position is already approved.")
    latest = EthicsAnswerSet.objects.filter(use_case=None).order_by("-answered_at", "-id").first()
    if latest.pk != answer_set.pk:
        raise ValidationError("A newer answer set exists; only the latest one can be approved.")
    approval = EthicsApproval(
        answer_set=answer_set, approved_by=by, approved_at=timezone.now(), note=note
    )
    approval.full_clean()
    approval.save()
    return approval


# --- publishing an ethics questionnaire version ------------------------------------------

QUESTION_FIELDS = (
    "code",
    "text",
    "help_text",
    "kind",
    "required",
    "order",
    "scale_min",
    "scale_max",
    "scale_min_label",
    "scale_max_label",
)


def ethics_version_questions(version: EthicsTemplateVersion) -> list[dict]:
    """A questionnaire version's questions and their options, as proposals hold them."""
    return [
        {
            **{name: getattr(q, name) for name in QUESTION_FIELDS},
            "options": [[o.code, o.label, o.order] for o in q.options.all()],
        }
        for q in ethics_question_list(version=version).order_by("order", "id")
    ]


def ethics_publish_content(*, version: EthicsTemplateVersion, note: str) -> dict:
    """What publishing a draft questionnaire would make current: every question and
    option exactly as they are now, and the note. Raises ValidationError for a missing
    note, an empty draft or a choice question without options."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": ["Write the draft's note (what changed and why) before proposing it."]}
        )
    questions = ethics_version_questions(version)
    if not questions:
        raise ValidationError("A questionnaire version needs at least one question.")
    choice = (ethics_rules.SINGLE, ethics_rules.MULTI)
    empty = [q["code"] for q in questions if q["kind"] in choice and not q["options"]]
    if empty:
        raise ValidationError(f"Choice questions without options: {', '.join(empty)}.")
    return {"ethics_version": version.pk, "note": note, "questions": questions}


def ethics_publish_apply(*, content: dict, by: User) -> EthicsTemplateVersion:
    """Publish the draft exactly as proposed: it becomes the current version and never
    changes again. Raises ValidationError when the draft is gone, published, or its
    questions differ from the proposal."""
    version = (
        EthicsTemplateVersion.objects.select_for_update()
        .filter(pk=content["ethics_version"])
        .first()
    )
    if version is None or version.status != EthicsTemplateVersion.Status.DRAFT:
        raise ValidationError("The proposed draft is no longer a draft; nothing was published.")
    if ethics_version_questions(version) != content["questions"]:
        raise ValidationError(
            "The draft's questions changed since it was proposed; propose it again."
        )
    version.status = EthicsTemplateVersion.Status.PUBLISHED
    version.published_by = by
    version.published_at = timezone.now()
    version.note = content["note"]
    version.full_clean()
    version.save(update_fields=["status", "published_by", "published_at", "note"])
    return version
