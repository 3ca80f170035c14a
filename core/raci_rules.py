"""Step 3 RACI rules, pure (no Django imports).

A matrix is ``{(task code, role code): letters}`` where letters is a string over
"ARCI" (e.g. "AR"). Rules: every task has exactly one Accountable and at least one
Responsible; a role that is Accountable or Responsible for a task must have somebody
named for it. A matrix with violations is not complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LETTERS = "ARCI"
MEANING = {"A": "Accountable", "R": "Responsible", "C": "Consulted", "I": "Informed"}


def normalise_letters(value: str) -> str:
    """'r/a' -> 'AR'. Raises ValueError for anything but A, R, C, I (each at most once)."""
    cleaned = [c for c in (value or "").upper() if c not in " /,+-"]
    unknown = sorted({c for c in cleaned if c not in LETTERS})
    if unknown:
        raise ValueError(f"Use only A, R, C and I (got {', '.join(unknown)}).")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("Each letter may appear once.")
    return "".join(c for c in LETTERS if c in cleaned)


@dataclass(frozen=True)
class Violation:
    task: str
    message: str


def violations(
    matrix: Mapping[tuple[str, str], str],
    *,
    tasks: Iterable[tuple[str, str]],
    roles: Iterable[tuple[str, str]],
    staffed_roles: set[str] | None = None,
) -> list[Violation]:
    """What keeps the matrix from being complete, task by task (in task order).

    ``tasks`` and ``roles`` are (code, name) pairs; ``staffed_roles`` the role codes
    with somebody named (None: do not check staffing, e.g. for the template).
    """
    role_names = dict(roles)
    found = []
    for task, task_name in tasks:
        letters = {role: matrix.get((task, role), "") for role in role_names}
        accountable = [r for r, v in letters.items() if "A" in v]
        responsible = [r for r, v in letters.items() if "R" in v]
        if not accountable:
            found.append(Violation(task, f"{task_name}: nobody is Accountable."))
        elif len(accountable) > 1:
            names = " and ".join(role_names[r] for r in accountable)
            found.append(Violation(task, f"{task_name}: two Accountables ({names})."))
        if not responsible:
            found.append(Violation(task, f"{task_name}: nobody is Responsible."))
        if staffed_roles is not None:
            for role in sorted(set(accountable + responsible) - staffed_roles):
                found.append(
                    Violation(task, f"{task_name}: nobody is named for {role_names[role]}.")
                )
    return found


def tasks_with_two_accountables(matrix: Mapping[tuple[str, str], str]) -> list[str]:
    counts: dict[str, int] = {}
    for (task, _role), letters in matrix.items():
        if "A" in letters:
            counts[task] = counts.get(task, 0) + 1
    return sorted(task for task, n in counts.items() if n > 1)
