"""The Step 1 rules engine: questionnaire answers -> criticality level and risk tier.

Pure computation, no Django imports: the rules arrive as plain data (loaded from
the database by ``governance.selectors``), so the engine can be tested and reused
from a worker, a command or a notebook.

A rule is a conjunction of conditions on answers; when it matches it raises the
criticality level and/or the risk tier to *at least* its floor. The result is the
highest floor reached (baseline: level 1, tier 1). Every matching rule is reported
with the answers that triggered it, so the classification explains itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

BASELINE_CRITICALITY = 1
BASELINE_TIER = 1

SINGLE = "single"
MULTI = "multi"
BOOLEAN = "boolean"

EQUALS = "equals"  # single: the answer is this option
ANY_OF = "any_of"  # single: the answer is one of these options
INCLUDES_ANY = "includes_any"  # multi: the answer includes at least one of these options
INCLUDES_ALL = "includes_all"  # multi: the answer includes every one of these options
IS_TRUE = "is_true"  # boolean
IS_FALSE = "is_false"  # boolean

OPERATORS_BY_KIND = {
    SINGLE: (EQUALS, ANY_OF),
    MULTI: (INCLUDES_ANY, INCLUDES_ALL),
    BOOLEAN: (IS_TRUE, IS_FALSE),
}


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)  # code -> label
    required: bool = True


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    explanation: str
    conditions: tuple[Condition, ...]
    min_criticality: int | None = None
    min_tier: int | None = None


@dataclass(frozen=True)
class Reason:
    rule_id: int
    rule: str
    explanation: str
    min_criticality: int | None
    min_tier: int | None
    triggered_by: tuple[dict[str, str], ...]  # ({"question", "answer"} ...) in display form
    decisive: bool = False


@dataclass(frozen=True)
class Result:
    criticality: int
    tier: int
    reasons: tuple[Reason, ...]

    def reasons_as_data(self) -> list[dict[str, Any]]:
        return [
            {**asdict(reason), "triggered_by": list(reason.triggered_by)} for reason in self.reasons
        ]


def validate_condition(condition: Condition, question: Question | None) -> list[str]:
    """Return what is wrong with one rule condition (empty when it is valid)."""
    if question is None:
        return [f"Unknown question {condition.question!r}."]
    allowed = OPERATORS_BY_KIND.get(question.kind, ())
    errors = []
    if condition.operator not in allowed:
        errors.append(
            f"Operator {condition.operator!r} does not apply to a {question.kind} question "
            f"(use one of: {', '.join(allowed)})."
        )
    if question.kind == BOOLEAN:
        if condition.values:
            errors.append("A yes/no condition takes no values.")
    else:
        if not condition.values:
            errors.append("Name at least one option.")
        unknown = [v for v in condition.values if v not in question.options]
        if unknown:
            errors.append(
                f"Unknown option(s) for {question.code!r}: {', '.join(map(str, unknown))}. "
                f"Valid: {', '.join(question.options)}."
            )
        if condition.operator == EQUALS and len(condition.values) > 1:
            errors.append("'equals' takes exactly one option; use 'any_of' for several.")
    return errors


def validate_answers(questions: list[Question], answers: dict[str, Any]) -> dict[str, str]:
    """Check answers against the questions; return {question code: error message}."""
    errors: dict[str, str] = {}
    known = {q.code for q in questions}
    for code in answers:
        if code not in known:
            errors[code] = "Unknown question."
    for q in questions:
        value = answers.get(q.code)
        missing = value is None or value == "" or (q.kind == MULTI and value == [])
        if missing:
            if q.required and not (q.kind == MULTI and value == []):
                errors[q.code] = "An answer is required."
            continue
        problem = _answer_problem(q, value)
        if problem:
            errors[q.code] = problem
    return errors


def _answer_problem(q: Question, value: Any) -> str | None:
    """What is wrong with a given (not missing) answer to `q`, or None."""
    if q.kind == BOOLEAN:
        if not isinstance(value, bool):
            return "Answer yes (true) or no (false)."
    elif q.kind == SINGLE:
        if not isinstance(value, str) or value not in q.options:
            return f"{value!r} is not a valid choice; choose one of: {', '.join(q.options)}."
    elif q.kind == MULTI:
        return _multi_problem(q, value)
    return None


def _multi_problem(q: Question, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "Give a list of option codes."
    bad = [v for v in value if v not in q.options]
    if bad:
        return f"Not valid choices: {', '.join(bad)}; choose from: {', '.join(q.options)}."
    if len(set(value)) != len(value):
        return "An option is given twice."
    return None


def _matches(condition: Condition, answer: Any) -> bool:
    op, values = condition.operator, set(condition.values)
    if answer is None:
        return False
    if op in (EQUALS, ANY_OF):
        return answer in values
    if op == INCLUDES_ANY:
        return bool(values & set(answer))
    if op == INCLUDES_ALL:
        return values <= set(answer)
    if op == IS_TRUE:
        return answer is True
    if op == IS_FALSE:
        return answer is False
    raise ValueError(f"unknown operator {op!r}")


def _answer_label(question: Question | None, answer: Any, condition: Condition) -> str:
    if question is None:
        return str(answer)
    if question.kind == BOOLEAN:
        return "Yes" if answer else "No"
    if question.kind == MULTI:
        hit = [v for v in answer if v in condition.values]
        return ", ".join(question.options.get(v, v) for v in hit)
    return question.options.get(answer, str(answer))


def evaluate(questions: list[Question], rules: list[Rule], answers: dict[str, Any]) -> Result:
    """Apply every rule to the answers; return the level, the tier and why."""
    by_code = {q.code: q for q in questions}
    matched: list[Reason] = []
    for rule in rules:
        if not rule.conditions:
            continue
        if all(_matches(c, answers.get(c.question)) for c in rule.conditions):
            triggered = tuple(
                {
                    "question": by_code[c.question].text if c.question in by_code else c.question,
                    "answer": _answer_label(by_code.get(c.question), answers.get(c.question), c),
                }
                for c in rule.conditions
            )
            matched.append(
                Reason(
                    rule_id=rule.id,
                    rule=rule.name,
                    explanation=rule.explanation,
                    min_criticality=rule.min_criticality,
                    min_tier=rule.min_tier,
                    triggered_by=triggered,
                )
            )
    criticality = max(
        [BASELINE_CRITICALITY] + [r.min_criticality for r in matched if r.min_criticality]
    )
    tier = max([BASELINE_TIER] + [r.min_tier for r in matched if r.min_tier])
    reasons = tuple(
        Reason(
            **{
                **asdict(r),
                "triggered_by": r.triggered_by,
                "decisive": (
                    r.min_criticality == criticality and criticality > BASELINE_CRITICALITY
                )
                or (r.min_tier == tier and tier > BASELINE_TIER),
            }
        )
        for r in matched
    )
    reasons = tuple(
        sorted(
            reasons,
            key=lambda r: (not r.decisive, -(r.min_tier or 0), -(r.min_criticality or 0), r.rule),
        )
    )
    return Result(criticality=criticality, tier=tier, reasons=reasons)


def fingerprint(rules: list[Rule]) -> str:
    """A stable hash of the rule set, to tell whether a classification is stale."""
    canonical = sorted(
        (
            {
                "id": r.id,
                "conditions": sorted(
                    ([c.question, c.operator, sorted(c.values)] for c in r.conditions),
                ),
                "min_criticality": r.min_criticality,
                "min_tier": r.min_tier,
            }
            for r in rules
        ),
        key=lambda d: d["id"],
    )
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
