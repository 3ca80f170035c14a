"""Writes of Step 3: a use case's RACI cells and the people named for its roles."""

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core import raci_rules
from governance.models import RaciAssignment, RaciRole, RaciTask, UseCaseRaciCell
from governance.selectors.raci import raci_template_matrix
from inventory import permissions as inventory_permissions
from inventory.models import Team, UseCase


def _require_change(by: User, use_case: UseCase) -> None:
    if not inventory_permissions.can_change_use_case(by, use_case):
        raise PermissionDenied("Only the use case's team and governance leads change its RACI.")


@transaction.atomic
def raci_matrix_set(*, use_case: UseCase, cells: Mapping[tuple[str, str], str], by: User) -> None:
    """Set cells of a use case's matrix: {(task code, role code): letters}.

    The first change copies the template, so the use case keeps its own matrix from
    then on. Refuses (ValidationError, nothing written) unknown codes, letters other
    than A, R, C, I, and a task with two Accountables. A task left without an
    Accountable or a Responsible is saved and shown as a violation: the matrix is then
    incomplete, not invalid.
    """
    use_case = UseCase.objects.select_for_update().get(pk=use_case.pk)
    _require_change(by, use_case)
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
    matrix.update(normalised)
    doubled = raci_rules.tasks_with_two_accountables(matrix)
    if doubled:
        raise ValidationError(
            {"cells": [f"{tasks[t].name}: only one role can be Accountable." for t in doubled]}
        )
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
    _owners_follow(use_case, by, "The RACI matrix changed.")


@transaction.atomic
def raci_assign(
    *,
    use_case: UseCase,
    role: RaciRole,
    by: User,
    user: User | None = None,
    team: Team | None = None,
) -> RaciAssignment:
    """Name a person or a team for a role on a use case (idempotent)."""
    _require_change(by, use_case)
    if (user is None) == (team is None):
        raise ValidationError("Name either a person or a team.")
    existing = RaciAssignment.objects.filter(
        use_case=use_case, role=role, user=user, team=team
    ).first()
    if existing:
        return existing
    assignment = RaciAssignment(use_case=use_case, role=role, user=user, team=team, assigned_by=by)
    assignment.full_clean()
    assignment.save()
    _owners_follow(use_case, by, f"{assignment} named in the RACI.")
    return assignment


@transaction.atomic
def raci_unassign(*, assignment: RaciAssignment, by: User) -> None:
    _require_change(by, assignment.use_case)
    assignment.delete()
    _owners_follow(assignment.use_case, by, f"{assignment} no longer named in the RACI.")


def _owners_follow(use_case: UseCase, by: User, reason: str) -> None:
    """Obligation owners come from the RACI: re-derive them after the commit."""
    from governance.services.obligations import obligations_recompute_later

    obligations_recompute_later(use_case=use_case, by=by, reason=reason)
