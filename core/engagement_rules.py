"""Step 7, engage and educate (issue 16): attestations and training, pure (no Django).

- **Attestation.** Publishing a policy version or a new ethical position starts a
  campaign: everyone holding one of the roles the policy names must read and
  acknowledge it within the policy's days. Only the latest campaign of each subject
  counts (a newer one supersedes it). A person is *lapsed* once the latest campaign's due
  date has passed without their acknowledgement.
- **Training.** Modules are content as data (sections and a short knowledge check), each
  for some roles and valid for some days once passed. A person is due for a module from
  when it applies to them (the later of the module's start and their joining) plus the
  policy's grace days; *lapsed* when that has passed with no current completion, or
  when their last completion expired.
- **Signing.** The policy decides whether a lapsed person may sign (by default: not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# What a person's obligation stands at.
DONE = "done"  # acknowledged / training current
DUE = "due"  # still within its window
LAPSED = "lapsed"  # window passed, nothing current
STATE_LABELS = {DONE: "Done", DUE: "Due", LAPSED: "Lapsed"}

# Defaults of a policy version published before these settings existed.
DEFAULT_ATTESTATION_DAYS = 14
DEFAULT_TRAINING_GRACE_DAYS = 30
DEFAULT_LAPSED_MAY_SIGN = False
MAX_DAYS = 365
# Reminders: an attestation this many days before its due date; training this many days
# before it is due or expires.
ATTESTATION_REMIND_DAYS = 3
TRAINING_REMIND_DAYS = 14
# A passing knowledge check answers every question right.
PASS_MARK = 1.0


def validate_engagement(
    *, attestation_days: Any, training_grace_days: Any, roles: Any, known_roles: Iterable[str]
) -> dict[str, list[str]]:
    """Problems with a policy's attestation settings, by field (empty when valid)."""
    errors: dict[str, list[str]] = {}
    for name, value, label in (
        ("attestation_days", attestation_days, "Days to acknowledge"),
        ("training_grace_days", training_grace_days, "Days to complete new training"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
            errors[name] = [f"{label}: a whole number of days from 1 to {MAX_DAYS}."]
    known = set(known_roles)
    if not isinstance(roles, (list, tuple)) or not roles:
        errors["attestation_roles"] = ["Name at least one role that must acknowledge."]
    else:
        unknown = sorted({str(r) for r in roles} - known)
        if unknown:
            errors["attestation_roles"] = [f"Unknown roles: {', '.join(unknown)}."]
    return errors


def attestation_state(*, due_on: date, acknowledged: bool, today: date) -> str:
    if acknowledged:
        return DONE
    return DUE if today <= due_on else LAPSED


@dataclass(frozen=True)
class TrainingStatus:
    state: str
    due_on: date | None  # when it must be done (not yet done) or expires (done)
    expires_on: date | None


def training_status(
    *, applies_from: date, grace_days: int, expires_on: date | None, today: date
) -> TrainingStatus:
    """Where a person stands with one module: ``applies_from`` is the later of the
    module's start and the day they joined; ``expires_on`` when their latest pass
    expires (None: never passed)."""
    if expires_on is not None:
        return TrainingStatus(DONE if today < expires_on else LAPSED, expires_on, expires_on)
    due = applies_from + timedelta(days=grace_days)
    return TrainingStatus(DUE if today <= due else LAPSED, due, None)


# --- training content ------------------------------------------------------------------


def validate_module(content: Mapping[str, Any], *, known_roles: Iterable[str]) -> list[str]:
    """Problems with a module's content (empty when valid): sections of heading + body,
    questions of text + at least two distinct choices + the index of the right one,
    roles among ``known_roles``, validity from 30 days to 5 years."""
    problems: list[str] = []
    sections = content.get("sections")
    if not isinstance(sections, list) or not sections:
        problems.append("A module needs at least one section.")
    else:
        for i, section in enumerate(sections, 1):
            if not isinstance(section, Mapping):
                problems.append(f"Section {i} must be an object with a heading and a body.")
                continue
            if not str(section.get("heading") or "").strip():
                problems.append(f"Section {i} has no heading.")
            if not str(section.get("body") or "").strip():
                problems.append(f"Section {i} has no text.")
    questions = content.get("questions")
    if not isinstance(questions, list) or not questions:
        problems.append("A module needs at least one question to check understanding.")
    else:
        for i, question in enumerate(questions, 1):
            problems.extend(_question_problems(i, question))
    roles = content.get("roles")
    known = set(known_roles)
    if not isinstance(roles, list) or not roles:
        problems.append("Name at least one role the module is for.")
    elif set(map(str, roles)) - known:
        problems.append(f"Unknown roles: {', '.join(sorted(set(map(str, roles)) - known))}.")
    validity = content.get("validity_days")
    if isinstance(validity, bool) or not isinstance(validity, int) or not 30 <= validity <= 1826:
        problems.append("Validity: a whole number of days from 30 to 1826 (five years).")
    return problems


def _question_problems(i: int, question: Any) -> list[str]:
    if not isinstance(question, Mapping):
        return [f"Question {i} must be an object with text, choices and an answer."]
    problems = []
    if not str(question.get("text") or "").strip():
        problems.append(f"Question {i} has no text.")
    choices = question.get("choices")
    if (
        not isinstance(choices, list)
        or len(choices) < 2
        or len({str(c).strip() for c in choices}) != len(choices)
        or any(not str(c).strip() for c in choices)
    ):
        problems.append(f"Question {i} needs at least two distinct, non-empty choices.")
        return problems
    answer = question.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        problems.append(f"Question {i}'s answer must be the index of one of its choices.")
    return problems


@dataclass(frozen=True)
class QuizResult:
    correct: int
    total: int
    wrong: tuple[int, ...]  # 1-based numbers of the questions answered wrongly

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.total > 0 and self.score >= PASS_MARK


def quiz_score(questions: Sequence[Mapping[str, Any]], answers: Mapping[int, int]) -> QuizResult:
    """Mark ``answers`` ({question index: choice index}); a missing answer is wrong."""
    wrong = tuple(
        i + 1 for i, question in enumerate(questions) if answers.get(i) != question["answer"]
    )
    return QuizResult(len(questions) - len(wrong), len(questions), wrong)


def completion_rate(done: int, required: int) -> float | None:
    """Share of people done, or None when nobody is required."""
    return None if required == 0 else done / required
