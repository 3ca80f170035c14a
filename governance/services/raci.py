"""Writes of Step 3: a use case's RACI cells and the people named for its roles.

Who may sign is a second-line decision (issue 12): the rows of the signing tasks, the
columns of the approval roles and who is named for those roles are changed by risk
officers and governance leads only (``governance.permissions``). A change that alters
who is Accountable for a signing task tells the registered handlers, in the same
transaction (reviews voids the affected signatures of pending requests).
"""

from collections.abc import Callable, Mapping

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.roles import APPROVAL_RACI_ROLES, SIGNING_TASK_ROLES
from core import raci_rules
from governance import permissions
from governance.models import RaciAssignment, RaciRole, RaciTask, UseCaseRaciCell
from governance.selectors.raci import raci_accountable_for, raci_template_matrix
from inventory.models import Team, UseCase

_on_signer_staffing_changed: list[Callable[..., None]] = []

SECOND_LINE_ONLY = (
    "Only risk officers and governance leads decide who signs: the rows of model "
    "acceptance and deployments, the risk / audit, production and validation columns and "
    "the people "
    "named for those roles are theirs to change."
)


def on_signer_staffing_changed(handler: Callable[..., None]) -> Callable[..., None]:
    """Register ``handler(use_case=, tasks=, before=, after=, by=, what=)``, called in
    the same transaction when a RACI change alters who is Accountable for a signing
    task. ``before``/``after``: {task code: [user ids]}. Returns the handler."""
    if handler not in _on_signer_staffing_changed:
        _on_signer_staffing_changed.append(handler)
    return handler


def signer_staffing(use_case: UseCase) -> dict[str, list[int]]:
    """{signing task: ids of the people Accountable for it} on the use case."""
    return {
        task: sorted(u.pk for u in raci_accountable_for(use_case=use_case, task_code=task))
        for task in SIGNING_TASK_ROLES
    }


def _staffing_follows(use_case: UseCase, before: dict, by: User, what: str) -> None:
    after = signer_staffing(use_case)
    tasks = [task for task in before if before[task] != after.get(task)]
    if tasks:
        for handler in list(_on_signer_staffing_changed):
            handler(use_case=use_case, tasks=tasks, before=before, after=after, by=by, what=what)


def _require_access(by: User, use_case: UseCase) -> None:
    if not permissions.can_edit_raci(by, use_case):
        raise PermissionDenied(
            "Only the use case's team, risk officers and governance leads change its RACI."
        )


@transaction.atomic
def raci_matrix_set(*, use_case: UseCase, cells: Mapping[tuple[str, str], str], by: User) -> None:
    """Set cells of a use case's matrix: {(task code, role code): letters}.

    The first change copies the template, so the use case keeps its own matrix from
    then on. Refuses (ValidationError, nothing written) unknown codes, letters other
    than A, R, C, I, and a task with two Accountables; refuses (PermissionDenied) a
    change to a cell the user may not edit (signing rows and approval columns are the
    second line's; the rest the team's and governance leads'). A task left without an
    Accountable or a Responsible is saved and shown as a violation: the matrix is then
    incomplete, not invalid.
    """
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    _require_access(by, use_case)
    tasks = {t.code: t for t in RaciTask.objects.all()}
    roles = {r.code: r for r in RaciRole.objects.all()}
    errors: dict[str, list[str]] = {}
    normalised = {}
    for (task, role), letters in cells.items():
        key = f"{task}/{role}"
        if task not in tasks or role not in roles:
            errors.setdefault(key, []).append("Unknown task or role.")
            continue
        try:
            normalised[(task, role)] = raci_rules.normalise_letters(letters)
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
    if errors:
        raise ValidationError(errors)
    existing = {
        (c.task.code, c.role.code): c for c in use_case.raci_cells.select_related("task", "role")
    }
    matrix = (
        {key: cell.letters for key, cell in existing.items()}
        if existing
        else raci_template_matrix()
    )
    if not _require_cells(by, use_case, matrix, normalised, tasks, roles):
        return  # nothing changes: nothing is written
    matrix.update(normalised)
    doubled = raci_rules.tasks_with_two_accountables(matrix)
    if doubled:
        raise ValidationError(
            {"cells": [f"{tasks[t].name}: only one role can be Accountable." for t in doubled]}
        )
    before = signer_staffing(use_case)
    for (task, role), letters in matrix.items():
        cell = existing.get((task, role)) or UseCaseRaciCell(
            use_case=use_case, task=tasks[task], role=roles[role]
        )
        if cell.pk and cell.letters == letters:
            continue
        cell.letters = letters
        cell.updated_by = by
        cell.full_clean()
        cell.save()
    _staffing_follows(use_case, before, by, "The RACI matrix changed.")
    _owners_follow(use_case, by, "The RACI matrix changed.")


def _require_cells(by, use_case, matrix, new, tasks, roles) -> list[tuple[str, str]]:
    """The cells that change; refuse (PermissionDenied) when one is not the user's to
    change."""
    changed = [key for key, letters in new.items() if matrix.get(key, "") != letters]
    refused = [key for key in changed if not permissions.can_edit_raci_cell(by, use_case, *key)]
    if not refused:
        return changed
    names = ", ".join(f"{tasks[t].name} / {roles[r].name}" for t, r in refused)
    if any(permissions.is_signing_cell(*key) for key in refused):
        raise PermissionDenied(f"{SECOND_LINE_ONLY} Refused: {names}. Nothing was saved.")
    raise PermissionDenied(
        "Only the use case's team and governance leads change the rest of its RACI. "
        f"Refused: {names}. Nothing was saved."
    )


def _require_staffing(by: User, use_case: UseCase, role: RaciRole) -> None:
    if not permissions.can_edit_raci(by, use_case) or not permissions.can_staff_raci_role(
        by, use_case, role.code
    ):
        if role.code in APPROVAL_RACI_ROLES:
            raise PermissionDenied(SECOND_LINE_ONLY)
        raise PermissionDenied("Only the use case's team and governance leads change its RACI.")


@transaction.atomic
def raci_assign(
    *,
    use_case: UseCase,
    role: RaciRole,
    by: User,
    user: User | None = None,
    team: Team | None = None,
) -> RaciAssignment:
    """Name a person or a team for a role on a use case (idempotent). An approval role
    (risk / audit, production) is staffed by the second line only, with people holding
    its product role (ValidationError otherwise, nothing written)."""
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    _require_staffing(by, use_case, role)
    if (user is None) == (team is None):
        raise ValidationError("Name either a person or a team.")
    problem = permissions.staffing_problem(role.code, role.name, user=user, team=team)
    if problem:
        raise ValidationError({"team" if team is not None else "user": problem})
    existing = RaciAssignment.objects.filter(
        use_case=use_case, role=role, user=user, team=team
    ).first()
    if existing:
        return existing
    before = signer_staffing(use_case)
    assignment = RaciAssignment(use_case=use_case, role=role, user=user, team=team, assigned_by=by)
    assignment.full_clean()
    assignment.save()
    _staffing_follows(use_case, before, by, f"{user or team} named for {role}.")
    _owners_follow(use_case, by, f"{assignment} named in the RACI.")
    return assignment


@transaction.atomic
def raci_unassign(*, assignment: RaciAssignment, by: User) -> None:
    use_case = UseCase.objects.select_for_update().get(pk=assignment.use_case_id)
    _require_staffing(by, use_case, assignment.role)
    before = signer_staffing(use_case)
    who = assignment.user or assignment.team
    assignment.delete()
    _staffing_follows(use_case, before, by, f"{who} no longer named for {assignment.role}.")
    _owners_follow(use_case, by, f"{assignment} no longer named in the RACI.")


def _owners_follow(use_case: UseCase, by: User, reason: str) -> None:
    """Obligation owners come from the RACI: re-derive them after the commit."""
    from governance.services.obligations import obligations_recompute_later

    obligations_recompute_later(use_case=use_case, by=by, reason=reason)
