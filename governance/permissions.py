"""Who may change a use case's RACI (issue 12: who may sign is a second-line decision).

- the use case's team and governance leads change its matrix and name its people,
  except what decides who signs;
- only the second line (risk officers, governance leads) changes the rows of the
  signing tasks (model acceptance, deployments), the columns of the roles that carry
  approval or challenge duties (risk / audit, production), and who is named for those
  roles; each person named for one must hold the matching product role.
Pages, the API and the services use these same checks.
"""

from accounts.permissions import AnyUser, has_role, is_second_line
from accounts.roles import APPROVAL_RACI_ROLES, SIGNING_TASK_ROLES, role_names
from inventory.models import UseCase
from inventory.permissions import can_change_use_case


def is_signing_cell(task_code: str, role_code: str) -> bool:
    """A cell that decides who signs: in a signing task's row or an approval role's
    column."""
    return task_code in SIGNING_TASK_ROLES or role_code in APPROVAL_RACI_ROLES


def can_edit_raci(user: AnyUser, use_case: UseCase) -> bool:
    """May change some part of the use case's RACI (the rest is checked per cell)."""
    return can_change_use_case(user, use_case) or is_second_line(user)


def can_edit_raci_cell(user: AnyUser, use_case: UseCase, task_code: str, role_code: str) -> bool:
    if is_signing_cell(task_code, role_code):
        return is_second_line(user)
    return can_change_use_case(user, use_case)


def can_staff_raci_role(user: AnyUser, use_case: UseCase, role_code: str) -> bool:
    """May name (or remove) people for the role on the use case."""
    if role_code in APPROVAL_RACI_ROLES:
        return is_second_line(user)
    return can_change_use_case(user, use_case)


def staffing_problem(role_code: str, role_name: str, *, user=None, team=None) -> str | None:
    """Why the person or team may not be named for the role, or None. An approval role
    takes named people holding its product role, never a team (whose members change)."""
    required = APPROVAL_RACI_ROLES.get(role_code)
    if not required:
        return None
    if team is not None:
        return (
            f"Name a person for {role_name}, not a team: everyone named for it must hold "
            f"the {role_names(required)} role."
        )
    if user is not None and not has_role(user, *required):
        return (
            f"{user.get_username()} does not hold the {role_names(required)} role that "
            f"{role_name} needs."
        )
    return None
