"""Reads of Step 3: a use case's RACI matrix, its violations, who is responsible."""

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.permissions import AnyUser, has_any_role
from audit.figures import figure_while_unchanged
from core import raci_rules
from core.memo import memoized
from governance.models import (
    RaciAssignment,
    RaciRole,
    RaciTask,
    RaciTemplateCell,
    UseCaseRaciCell,
)


def raci_roles() -> QuerySet[RaciRole]:
    return RaciRole.objects.order_by("order", "id")


def raci_tasks() -> QuerySet[RaciTask]:
    return RaciTask.objects.order_by("order", "id")


@memoized
def raci_template_matrix() -> dict[tuple[str, str], str]:
    return {
        (c.task.code, c.role.code): c.letters
        for c in RaciTemplateCell.objects.select_related("task", "role")
    }


def _own_matrices(use_case_ids: list[int]) -> dict[int, dict[tuple[str, str], str]]:
    """{use case id: its own matrix} for those of the use cases that have one (one
    query); the others follow the template."""
    own: dict[int, dict[tuple[str, str], str]] = {}
    for cell in UseCaseRaciCell.objects.filter(use_case_id__in=use_case_ids).select_related(
        "task", "role"
    ):
        own.setdefault(cell.use_case_id, {})[(cell.task.code, cell.role.code)] = cell.letters
    return own


@memoized
def raci_use_case_matrix(*, use_case) -> tuple[dict[tuple[str, str], str], bool]:
    """(matrix, follows_template): the use case's own cells, or the template's while
    the use case has none."""
    cells = list(use_case.raci_cells.select_related("task", "role"))
    if not cells:
        return raci_template_matrix(), True
    return {(c.task.code, c.role.code): c.letters for c in cells}, False


def raci_assignments(*, use_case) -> QuerySet[RaciAssignment]:
    return use_case.raci_assignments.select_related("role", "user", "team")


@dataclass
class RaciView:
    """A use case's matrix ready to show: rows of cells, people per role, violations."""

    roles: list[RaciRole]
    rows: list[dict]
    people: dict[str, list[str]]
    violations: list[raci_rules.Violation]
    follows_template: bool
    complete: bool = field(init=False)

    def __post_init__(self) -> None:
        self.complete = not self.violations


@memoized
def _roles_and_tasks() -> tuple[list[RaciRole], list[RaciTask]]:
    return list(raci_roles()), list(raci_tasks())


@memoized
def _assignment_list(use_case) -> list[RaciAssignment]:
    """The use case's assignments, read once per memo scope (core.memo, issue 13)."""
    return list(raci_assignments(use_case=use_case))


@memoized
def raci_view(*, use_case) -> RaciView:
    roles, tasks = _roles_and_tasks()
    matrix, follows_template = raci_use_case_matrix(use_case=use_case)
    people: dict[str, list[str]] = {role.code: [] for role in roles}
    for assignment in _assignment_list(use_case):
        who = (
            assignment.user.get_full_name() or assignment.user.get_username()
            if assignment.user
            else f"{assignment.team} (team)"
        )
        people[assignment.role.code].append(who)
    found = raci_rules.violations(
        matrix,
        tasks=[(t.code, t.name) for t in tasks],
        roles=[(r.code, r.name) for r in roles],
        staffed_roles={code for code, names in people.items() if names},
    )
    by_task: dict[str, list[str]] = {}
    for violation in found:
        by_task.setdefault(violation.task, []).append(violation.message)
    rows = [
        {
            "task": task,
            "cells": [
                {"role": role, "letters": matrix.get((task.code, role.code), "")} for role in roles
            ],
            "problems": by_task.get(task.code, []),
        }
        for task in tasks
    ]
    return RaciView(roles, rows, people, found, follows_template)


def raci_is_complete(*, use_case) -> bool:
    return raci_view(use_case=use_case).complete


@memoized
def raci_people_for(*, use_case, task_code: str, letters: str = "AR") -> list[User]:
    """The people who hold any of ``letters`` for a task on a use case: users named
    for the roles, and members of teams named for them. E.g. the Accountable for
    model acceptance, or for monitoring."""
    matrix, _ = raci_use_case_matrix(use_case=use_case)
    role_codes = [
        role
        for (task, role), held in matrix.items()
        if task == task_code and set(held) & set(letters)
    ]
    assignments = [a for a in _assignment_list(use_case) if a.role.code in role_codes]
    user_ids = {a.user_id for a in assignments if a.user_id}
    team_ids = {a.team_id for a in assignments if a.team_id}
    return list(
        User.objects.filter(Q(pk__in=user_ids) | Q(teams__in=team_ids), is_active=True)
        .distinct()
        .order_by("username")
    )


def raci_accountable_tasks(*, user, use_case_ids) -> set[tuple[int, str]]:
    """(use case id, task code) pairs of those use cases for which ``user`` holds A in
    the RACI, in person or through a team: ``raci_people_for(letters="A")`` for many
    use cases at once, in at most four queries (issue 13: "my pending approvals")."""
    use_case_ids = set(use_case_ids)
    team_ids = set(user.teams.values_list("pk", flat=True))
    roles: dict[int, set[str]] = {}
    for use_case_id, role_code in (
        RaciAssignment.objects.filter(use_case_id__in=use_case_ids)
        .filter(Q(user=user) | Q(team_id__in=team_ids))
        .values_list("use_case_id", "role__code")
    ):
        roles.setdefault(use_case_id, set()).add(role_code)
    if not roles:
        return set()
    own = _own_matrices(list(roles))
    template = raci_template_matrix() if len(own) < len(roles) else {}
    out = set()
    for use_case_id, held in roles.items():
        for (task, role), letters in own.get(use_case_id, template).items():
            if role in held and "A" in letters:
                out.add((use_case_id, task))
    return out


def raci_use_cases_holding(*, user, tasks, use_case_ids, letters: str = "AR") -> set[int]:
    """Those of ``use_case_ids`` where ``user`` holds any of ``letters`` for any of
    ``tasks``, in person or through a team: ``raci_people_for`` for many use cases at
    once, in at most four queries (e.g. where the user develops models: reviews'
    independence)."""
    roles: dict[int, set[str]] = {}
    mine = _mine(user).filter(use_case_id__in=set(use_case_ids))
    for use_case_id, role_code in mine.values_list("use_case_id", "role__code"):
        roles.setdefault(use_case_id, set()).add(role_code)
    if not roles:
        return set()
    own = _own_matrices(list(roles))
    template = raci_template_matrix() if len(own) < len(roles) else {}
    tasks, wanted = set(tasks), set(letters)
    return {
        use_case_id
        for use_case_id, held in roles.items()
        for (task, role), letters_held in own.get(use_case_id, template).items()
        if task in tasks and role in held and wanted & set(letters_held)
    }


def raci_accountable_for(*, use_case, task_code: str) -> list[User]:
    return raci_people_for(use_case=use_case, task_code=task_code, letters="A")


def _mine(user) -> QuerySet[RaciAssignment]:
    """The user's assignments: named in person or through one of their teams."""
    team_ids = list(user.teams.values_list("pk", flat=True))
    return RaciAssignment.objects.filter(Q(user=user) | Q(team_id__in=team_ids))


def raci_my_responsibilities(*, user: AnyUser, use_case_ids=None, letter: str = "") -> list[dict]:
    """What the user is A, R, C or I for, across use cases (named directly or through a
    team), one row per (use case, task); only ``use_case_ids`` when given (one page of
    ``raci_my_use_cases``), only rows holding ``letter`` when given."""
    if not has_any_role(user):
        return []
    assignments = _mine(user).select_related("use_case", "role")
    if use_case_ids is not None:
        assignments = assignments.filter(use_case_id__in=use_case_ids)
    roles_by_use_case: dict[int, set[str]] = {}
    use_cases = {}
    for a in assignments:
        roles_by_use_case.setdefault(a.use_case_id, set()).add(a.role.code)
        use_cases[a.use_case_id] = a.use_case
    tasks = {t.code: t for t in raci_tasks()}
    roles = {r.code: r for r in raci_roles()}
    template = raci_template_matrix()
    own = _own_matrices(list(use_cases))
    rows = []
    for use_case_id, my_roles in roles_by_use_case.items():
        for (task_code, role_code), letters in own.get(use_case_id, template).items():
            if role_code in my_roles and letters and (not letter or letter in letters):
                rows.append(
                    {
                        "use_case": use_cases[use_case_id],
                        "task": tasks[task_code],
                        "role": roles[role_code],
                        "letters": letters,
                    }
                )
    rows.sort(key=lambda r: (r["use_case"].name, r["task"].order, r["role"].order))
    return rows


def raci_my_use_cases(*, user: AnyUser, letter: str = "", q: str = "") -> QuerySet:
    """The use cases for which the user holds some letter (``letter`` when given) in
    person or through a team, by name, as one query to paginate (issue 18: the page
    listed three rows for each of 10,000 use cases). Use cases following the template
    are selected in SQL from the roles holding that letter in it; the few with a
    matrix of their own are checked in Python."""
    from inventory.selectors import use_cases_visible

    if not has_any_role(user):
        return use_cases_visible(user=user)
    mine = _mine(user)
    tasks = {t.code for t in raci_tasks()}
    template = raci_template_matrix()
    holding = {
        role
        for (task, role), letters in template.items()
        if task in tasks and letters and (not letter or letter in letters)
    }
    own_ids = list(
        UseCaseRaciCell.objects.filter(use_case_id__in=mine.values("use_case_id"))
        .values_list("use_case_id", flat=True)
        .distinct()
    )
    own = _own_matrices(own_ids)
    my_roles: dict[int, set[str]] = {}
    for use_case_id, code in mine.filter(use_case_id__in=own_ids).values_list(
        "use_case_id", "role__code"
    ):
        my_roles.setdefault(use_case_id, set()).add(code)
    own_matching = [
        pk
        for pk, matrix in own.items()
        if any(
            role in my_roles.get(pk, set()) and letters and (not letter or letter in letters)
            for (_task, role), letters in matrix.items()
        )
    ]
    following = Exists(mine.filter(use_case_id=OuterRef("pk"), role__code__in=holding)) & ~Q(
        pk__in=own_ids
    )
    found = use_cases_visible(user=user).filter(following | Q(pk__in=own_matching))
    if q:
        found = found.filter(name__icontains=q)
    return found.order_by("name", "pk")


def use_cases_with_incomplete_raci(*, user: AnyUser) -> list:
    """Use cases (not retired) whose RACI matrix breaks a rule or leaves an A or R role
    with nobody named, in a constant number of queries."""
    return list(raci_incomplete_use_cases(user=user))


def raci_incomplete_use_cases(*, user: AnyUser) -> QuerySet:
    """The use cases ``user`` sees (not retired) whose RACI is incomplete, by name, as
    one query to count or paginate (issue 18: the home page and the list loaded every
    use case and its assignments to check them in Python). A use case that follows the
    template is incomplete when the template breaks a rule, or when a role holding A or
    R in it has nobody named (``NOT EXISTS`` per such role); the few with a matrix of
    their own are checked by the rules, once each. Four queries to build."""
    from inventory.choices import LifecycleStatus
    from inventory.models import UseCase
    from inventory.selectors import use_cases_visible

    live = use_cases_visible(user=user).exclude(status=LifecycleStatus.RETIRED)
    own_ids = list(
        UseCaseRaciCell.objects.filter(use_case__in=live)
        .values_list("use_case_id", flat=True)
        .distinct()
    )
    tasks = [(t.code, t.name) for t in raci_tasks()]
    roles = {r.code: r for r in raci_roles()}
    named_roles = [(code, r.name) for code, r in roles.items()]
    template = raci_template_matrix()
    own = _own_matrices(own_ids)
    staffed = _staffed_roles(own_ids)
    own_incomplete = [
        pk
        for pk in own_ids
        if raci_rules.violations(
            own.get(pk, {}), tasks=tasks, roles=named_roles, staffed_roles=staffed.get(pk, set())
        )
    ]
    following = ~Q(pk__in=own_ids)
    task_codes = {code for code, _ in tasks}
    needed = {
        role
        for (task, role), letters in template.items()
        if task in task_codes and role in roles and set(letters) & {"A", "R"}
    }
    if raci_rules.violations(template, tasks=tasks, roles=named_roles):
        incomplete = following
    elif needed:
        # One correlated count per use case (a range of the (use case, role) index):
        # about three times faster on SQLite than a NOT EXISTS per role.
        staffed_needed = (
            RaciAssignment.objects.filter(
                use_case=OuterRef("pk"), role_id__in=[roles[code].pk for code in needed]
            )
            .order_by()
            .values("use_case")
            .annotate(n=Count("role_id", distinct=True))
            .values("n")
        )
        live = live.alias(staffed_needed=Coalesce(Subquery(staffed_needed), 0))
        incomplete = following & Q(staffed_needed__lt=len(needed))
    else:
        incomplete = Q(pk__in=[])
    # Ordered outside the filter: ordered inside, SQLite walks the name index and looks
    # up every live use case's row to test it (about twice the time at 10,000).
    found = live.filter(incomplete | Q(pk__in=own_incomplete)).order_by().values("pk")
    return UseCase.objects.filter(pk__in=found).order_by("name", "pk")


def _staffed_roles(use_case_ids) -> dict[int, set[str]]:
    """The codes of the roles with somebody named, per use case."""
    staffed: dict[int, set[str]] = {}
    for use_case_id, role_code in RaciAssignment.objects.filter(
        use_case_id__in=use_case_ids
    ).values_list("use_case_id", "role__code"):
        staffed.setdefault(use_case_id, set()).add(role_code)
    return staffed


def raci_incomplete_messages(use_case_ids: list[int]) -> list[tuple]:
    """(use case, its violations' messages) for the given use cases, in that order (one
    page of ``raci_incomplete_ids``; the use cases carry only their id and name), in a
    constant number of queries."""
    from inventory.models import UseCase

    found = UseCase.objects.only("pk", "name").in_bulk(use_case_ids)
    use_cases = [found[pk] for pk in use_case_ids if pk in found]
    ids = [u.pk for u in use_cases]
    tasks = [(t.code, t.name) for t in raci_tasks()]
    roles = [(r.code, r.name) for r in raci_roles()]
    template = raci_template_matrix()
    own = _own_matrices(ids)
    staffed = _staffed_roles(ids)
    return [
        (
            u,
            [
                p.message
                for p in raci_rules.violations(
                    own.get(u.pk, template),
                    tasks=tasks,
                    roles=roles,
                    staffed_roles=staffed.get(u.pk, set()),
                )
            ],
        )
        for u in use_cases
    ]


def raci_incomplete_ids(*, user: AnyUser) -> list[int]:
    """The ids ``raci_incomplete_use_cases`` lists, in its order, kept until anything
    is audited (``audit.figures``: RACI cells, assignments, the template and use cases
    are audited rows): the list page and the home page's figure share them."""
    return figure_while_unchanged(
        f"raci-incomplete:{user.pk}",
        lambda _day: list(raci_incomplete_use_cases(user=user).values_list("pk", flat=True)),
    )


def use_cases_with_incomplete_raci_count(*, user: AnyUser) -> int:
    """How many use cases ``raci_incomplete_use_cases`` lists (the home page's figure)."""
    return len(raci_incomplete_ids(user=user))
