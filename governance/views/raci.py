"""Step 3 pages: a use case's RACI grid (read, and edit where allowed) and "my
responsibilities"."""

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.web import get_or_404, int_or_none, role_required
from core.raci_rules import MEANING
from governance import permissions
from governance.models import RaciAssignment, RaciRole
from governance.selectors import raci_my_responsibilities, raci_view
from governance.selectors.raci import (
    raci_incomplete_ids,
    raci_incomplete_messages,
    raci_my_use_cases,
)
from governance.services import raci_assign, raci_matrix_set, raci_unassign
from inventory.models import Team
from inventory.selectors import use_case_get


def _use_case_for_change(request: HttpRequest, pk: int):
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not permissions.can_edit_raci(request.user, use_case):
        raise PermissionDenied(
            "Only the use case's team, risk officers and governance leads change its RACI."
        )
    return use_case


def _editable_view(user, use_case):
    """The matrix to show, each cell marked with whether the user may change it (the
    rows and columns that decide who signs are the second line's)."""
    view = raci_view(use_case=use_case)
    for row in view.rows:
        for cell in row["cells"]:
            cell["editable"] = permissions.can_edit_raci_cell(
                user, use_case, row["task"].code, cell["role"].code
            )
            cell["signing"] = permissions.is_signing_cell(row["task"].code, cell["role"].code)
    return view


@role_required
def raci_use_case(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    can_change = permissions.can_edit_raci(request.user, use_case)
    errors: list[str] = []
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(
                "Only the use case's team, risk officers and governance leads change its RACI."
            )
        view = raci_view(use_case=use_case)
        cells = {
            (row["task"].code, cell["role"].code): request.POST.get(
                f"cell-{row['task'].code}-{cell['role'].code}", cell["letters"]
            )
            for row in view.rows
            for cell in row["cells"]
        }
        try:
            raci_matrix_set(use_case=use_case, cells=cells, by=request.user)
        except ValidationError as exc:
            errors = [m for messages_ in exc.message_dict.values() for m in messages_]
        else:
            messages.success(request, "Saved the RACI matrix.")
            return redirect("governance:raci-use-case", pk=use_case.pk)
    return _page(request, use_case, errors, status=400 if errors else 200)


def _page(request: HttpRequest, use_case, errors: list[str], *, status: int) -> HttpResponse:
    return render(
        request,
        "governance/raci_use_case.html",
        {
            "use_case": use_case,
            "view": _editable_view(request.user, use_case),
            "assignments": [
                (a, permissions.can_staff_raci_role(request.user, use_case, a.role.code))
                for a in use_case.raci_assignments.select_related("role", "user", "team")
            ],
            "can_change": permissions.can_edit_raci(request.user, use_case),
            "errors": errors,
            "posted": request.POST if errors else None,
            "meaning": MEANING,
            "roles": [
                r
                for r in RaciRole.objects.order_by("order")
                if permissions.can_staff_raci_role(request.user, use_case, r.code)
            ],
            "people": User.objects.filter(is_active=True).order_by("username"),
            "teams": Team.objects.order_by("name"),
        },
        status=status,
    )


@role_required
@require_POST
def raci_assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = _use_case_for_change(request, pk)
    role = RaciRole.objects.filter(pk=int_or_none(request.POST.get("role"))).first()
    user = User.objects.filter(pk=int_or_none(request.POST.get("user")), is_active=True).first()
    team = Team.objects.filter(pk=int_or_none(request.POST.get("team"))).first()
    if role is None or (user is None) == (team is None):
        return _page(
            request, use_case, ["Choose a role and either a person or a team."], status=400
        )
    try:
        raci_assign(use_case=use_case, role=role, user=user, team=team, by=request.user)
    except ValidationError as exc:
        return _page(request, use_case, list(exc.messages), status=400)
    messages.success(request, f"Named {user or team} for {role}.")
    return redirect("governance:raci-use-case", pk=use_case.pk)


@role_required
@require_POST
def raci_assignment_remove(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    use_case = _use_case_for_change(request, pk)
    assignment = RaciAssignment.objects.filter(pk=assignment_pk, use_case=use_case).first()
    if assignment is None:
        raise Http404("Not found.")
    raci_unassign(assignment=assignment, by=request.user)
    messages.success(
        request, f"Removed {assignment.user or assignment.team} from {assignment.role}."
    )
    return redirect("governance:raci-use-case", pk=use_case.pk)


class MineFilterForm(forms.Form):
    letter = forms.ChoiceField(required=False, choices=[("", "Any"), *MEANING.items()], label="As")
    q = forms.CharField(required=False, max_length=200, label="Use case")


MINE_SHOWN = 25


@role_required
def raci_mine(request: HttpRequest) -> HttpResponse:
    """My responsibilities, grouped by use case, a page of use cases at a time, filtered
    by letter and use-case name (issue 18); a bad filter value is a 400 naming it."""
    form = MineFilterForm(request.GET)
    valid = form.is_valid()
    letter = form.cleaned_data.get("letter", "") if valid else ""
    q = (form.cleaned_data.get("q") or "").strip() if valid else ""
    page = Paginator(raci_my_use_cases(user=request.user, letter=letter, q=q), MINE_SHOWN).get_page(
        request.GET.get("page")
    )
    rows = raci_my_responsibilities(
        user=request.user, use_case_ids=[u.pk for u in page.object_list], letter=letter
    )
    groups: dict[int, dict] = {u.pk: {"use_case": u, "rows": []} for u in page.object_list}
    for row in rows:
        groups[row["use_case"].pk]["rows"].append(row)
    return render(
        request,
        "governance/raci_mine.html",
        {
            "groups": list(groups.values()),
            "page_obj": page,
            "filter_form": form,
            "letter": letter,
            "q": q,
            "meaning": MEANING,
        },
        status=200 if valid else 400,
    )


@role_required
def raci_incomplete(request: HttpRequest) -> HttpResponse:
    """The use cases (not retired) whose RACI breaks a rule or leaves an A or R role with
    nobody named: the home page's "RACI incomplete" figure, listed with what is wrong
    (for the page shown)."""
    page = Paginator(raci_incomplete_ids(user=request.user), 50).get_page(request.GET.get("page"))
    rows = raci_incomplete_messages(list(page.object_list))
    return render(request, "governance/raci_incomplete.html", {"page_obj": page, "rows": rows})
