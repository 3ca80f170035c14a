"""Step 2 questionnaires as plain data: validating an answer set, showing answers and
comparing two answer sets question by question (across versions, by question code).

Pure computation, no Django imports: the questions arrive as plain data (built by
``governance.selectors.ethics``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SINGLE = "single"
MULTI = "multi"
SCALE = "scale"
TEXT = "text"

TEXT_MAX_LENGTH = 4000

# Question codes that link the two questionnaires to the classification: the
# organisation marks aspects critical; a use case says which aspects it touches.
CRITICAL_ASPECTS = "critical_aspects"
ASPECTS = "aspects"


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    kind: str
    options: dict[str, str] = field(default_factory=dict)  # code -> label, in order
    required: bool = True
    scale_min: int | None = None
    scale_max: int | None = None
    scale_min_label: str = ""
    scale_max_label: str = ""
    help_text: str = ""


def _missing(question: Question, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return question.kind == MULTI and value == []


def validate_answers(questions: list[Question], answers: Any) -> dict[str, str]:
    """Check an answer set against a version's questions.

    Returns {question code: error message}; empty when the answers are valid. An
    empty multiple-choice answer means "none of these" and is valid.
    """
    if not isinstance(answers, dict):
        return {"answers": "Give the answers as an object keyed by question code."}
    errors: dict[str, str] = {}
    by_code = {q.code: q for q in questions}
    for code in answers:
        if code not in by_code:
            errors[str(code)] = "Unknown question."
    for q in questions:
        value = answers.get(q.code)
        if _missing(q, value):
            if q.required and not (q.kind == MULTI and value == []):
                errors[q.code] = "An answer is required."
            continue
        problem = _answer_problem(q, value)
        if problem:
            errors[q.code] = problem
    return errors


def _answer_problem(q: Question, value: Any) -> str | None:
    """What is wrong with a given (not missing) answer to `q`, or None."""
    if q.kind == SINGLE:
        return _single_problem(q, value)
    if q.kind == MULTI:
        return _multi_problem(q, value)
    if q.kind == SCALE:
        return _scale_problem(q, value)
    if q.kind == TEXT:
        return _text_problem(value)
    return None


def _single_problem(q: Question, value: Any) -> str | None:
    if not isinstance(value, str) or value not in q.options:
        return f"{value!r} is not a valid choice; choose one of: {', '.join(q.options)}."
    return None


def _multi_problem(q: Question, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "Give a list of option codes."
    if bad := [v for v in value if v not in q.options]:
        return f"Not valid choices: {', '.join(bad)}; choose from: {', '.join(q.options)}."
    if len(set(value)) != len(value):
        return "An option is given twice."
    return None


def _scale_problem(q: Question, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Give a whole number."
    if not q.scale_min <= value <= q.scale_max:
        return f"Give a value from {q.scale_min} to {q.scale_max}."
    return None


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Give a text."
    if len(value) > TEXT_MAX_LENGTH:
        return f"Keep it under {TEXT_MAX_LENGTH} characters."
    return None


def normalise(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """Valid answers in a canonical form: questionnaire order, multiple choices in
    option order, texts stripped, unanswered optional questions left out."""
    out: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q.code)
        if q.kind == MULTI and isinstance(value, list):
            out[q.code] = [code for code in q.options if code in value]
        elif q.kind == TEXT and isinstance(value, str):
            if value.strip():
                out[q.code] = value.strip()
        elif value is not None and value != "":
            out[q.code] = value
    return out


def display(question: Question | None, value: Any) -> str:
    """An answer as people read it (labels, not codes; codes of options that no
    longer exist are shown as they are)."""
    if value is None:
        return "—"
    if question is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if question.kind == MULTI:
        values = value if isinstance(value, list) else [value]
        return ", ".join(question.options.get(v, v) for v in values) or "None"
    if question.kind == SINGLE:
        return question.options.get(value, str(value))
    if question.kind == SCALE:
        ends = {
            question.scale_min: question.scale_min_label,
            question.scale_max: question.scale_max_label,
        }
        label = ends.get(value)
        return (
            f"{value} of {question.scale_max} ({label})"
            if label
            else f"{value} of {question.scale_max}"
        )
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


@dataclass(frozen=True)
class ComparisonRow:
    code: str
    question: str
    left: str
    right: str
    changed: bool
    only_in: str = ""  # "left" / "right" when the question exists in one version only


def compare(
    left_questions: list[Question],
    left_answers: dict[str, Any],
    right_questions: list[Question],
    right_answers: dict[str, Any],
) -> list[ComparisonRow]:
    """Two answer sets side by side, matched by question code (so sets answered to
    different versions compare): the right-hand version's order first, then the
    questions only the left-hand one has."""
    left_by_code = {q.code: q for q in left_questions}
    right_by_code = {q.code: q for q in right_questions}
    codes = [q.code for q in right_questions] + [
        q.code for q in left_questions if q.code not in right_by_code
    ]
    rows = []
    for code in codes:
        lq, rq = left_by_code.get(code), right_by_code.get(code)
        lv, rv = left_answers.get(code), right_answers.get(code)
        only_in = "" if lq and rq else ("left" if lq else "right")
        rows.append(
            ComparisonRow(
                code=code,
                question=(rq or lq).text,
                left=display(lq, lv) if lq else "(not asked)",
                right=display(rq, rv) if rq else "(not asked)",
                changed=bool(only_in) or not _same(lv, rv),
                only_in=only_in,
            )
        )
    return rows


def critical_touched(position: dict[str, Any] | None, use_case: dict[str, Any] | None) -> list[str]:
    """The aspects the organisation's position marks critical that the use case's
    answers touch, in the position's order. Empty without either answer set."""
    if not position or not use_case:
        return []
    critical = position.get(CRITICAL_ASPECTS) or []
    touched = set(use_case.get(ASPECTS) or [])
    return [code for code in critical if code in touched]


# --- the position applied: a use case's answers against the organisation's ------------

BELOW_POSITION = "below_position"
PROHIBITED = "prohibited"
DEVIATION_KINDS = (BELOW_POSITION, PROHIBITED)
DEFAULT_TOLERANCE = 1
PSYCHOLOGY = "psychology"
# Harms to human psychology that no use case may declare whatever the position says
# (Step 2: "deception, manipulation, exploitation"): declaring one always deviates.
PROHIBITED_HARMS = ("deception", "manipulation", "exploitation")


@dataclass(frozen=True)
class Deviation:
    code: str  # the question code, or "psychology:<harm>"
    kind: str
    message: str
    position_value: Any = None
    use_case_value: Any = None


def deviations(
    position_questions: list[Question],
    position_answers: dict[str, Any] | None,
    use_case_questions: list[Question],
    use_case_answers: dict[str, Any] | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
) -> list[Deviation]:
    """Where a use case's answers fall short of the organisation's position.

    - A scale question both questionnaires ask (same code, same range) deviates when
      the use case answers more than ``tolerance`` points below the position.
    - A prohibited harm (``PROHIBITED_HARMS``) declared under the use case's
      psychology answer always deviates.

    Empty without either answer set. Questions only one side asks are not compared.
    """
    if not position_answers or not use_case_answers:
        return []
    found: list[Deviation] = []
    position_by_code = {q.code: q for q in position_questions}
    for question in use_case_questions:
        theirs = position_by_code.get(question.code)
        if question.kind != SCALE or theirs is None or theirs.kind != SCALE:
            continue
        if (theirs.scale_min, theirs.scale_max) != (question.scale_min, question.scale_max):
            continue
        ours, wanted = use_case_answers.get(question.code), position_answers.get(question.code)
        if not isinstance(ours, int) or not isinstance(wanted, int):
            continue
        if wanted - ours > tolerance:
            found.append(
                Deviation(
                    code=question.code,
                    kind=BELOW_POSITION,
                    message=f"{theirs.text.rstrip('?')}: answered {ours} of {question.scale_max}, "
                    f"the organisation's position is {wanted} (tolerance {tolerance}).",
                    position_value=wanted,
                    use_case_value=ours,
                )
            )
    psychology = next((q for q in use_case_questions if q.code == PSYCHOLOGY), None)
    declared = use_case_answers.get(PSYCHOLOGY) or []
    for harm in PROHIBITED_HARMS:
        if isinstance(declared, list) and harm in declared:
            label = psychology.options.get(harm, harm) if psychology else harm
            found.append(
                Deviation(
                    code=f"{PSYCHOLOGY}:{harm}",
                    kind=PROHIBITED,
                    message=f"Declares {label}: a prohibited harm, always a deviation from "
                    "the organisation's position.",
                    use_case_value=harm,
                )
            )
    return found
