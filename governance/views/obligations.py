"""Pages of Step 5: the portfolio's obligations (still owed, overdue, by owner or
tier), a use case's obligations (what it owes, why, who owns each, status,
evidence and history) with the forms to submit evidence, accept or waive.

Every page needs a governance role; who may act is checked in the services. A refused
act is answered on the page, the reason next to the obligation's forms: 403 (the role
may not), 409 (already decided meanwhile) or 400 (bad input, a rule), nothing written.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import has_role, is_governance_lead
from accounts.roles import Role
from accounts.web import get_or_404, page_by_ids, refused, role_required
from core import obligation_rules
from governance.filters import ObligationListFilterSet
from governance.models import Obligation
from governance.selectors import obligation_get, obligation_list
from governance.selectors.obligations import PENDING
from governance.services import obligation_accept, obligation_submit_evidence, obligation_waive
from inventory.selectors import use_case_get


class EvidenceForm(forms.Form):
    link = forms.CharField(label="Link", required=False, max_length=1000)
    file = forms.FileField(label="or a file", required=False)


class WaiveForm(forms.Form):
    justification = forms.CharField(
        label="Justification", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


def _obligation_or_404(request: HttpRequest, pk: int, obligation_pk: int) -> Obligation:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    obligation = obligation_get(pk=obligation_pk)
    if obligation is None or obligation.use_case_id != use_case.pk:
        raise Http404("Not found.")
    return obligation


@role_required
def obligation_use_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, get_or_404(use_case_get, user=request.user, pk=pk))


def _page(request: HttpRequest, use_case, *, refused_pk=None, refusal=None) -> HttpResponse:
    """The use case's obligations; ``refusal`` (a refused act on obligation
    ``refused_pk``) is shown in that obligation's card, with what was typed kept."""
    user = request.user
    in_team = use_case.team.members.filter(pk=user.pk).exists()
    lead = is_governance_lead(user)
    rows = []
    for o in obligation_list(use_case=use_case):
        pending = o.status in (Obligation.Status.OPEN, Obligation.Status.EVIDENCE_SUBMITTED)
        rows.append(
            {
                "obligation": o,
                "overdue": pending and o.due_date < timezone.localdate(),
                "can_submit": pending and (lead or in_team or o.owner_id == user.pk),
                "can_accept": o.status == Obligation.Status.EVIDENCE_SUBMITTED
                and has_role(user, Role.RISK_OFFICER, Role.GOVERNANCE_LEAD)
                and o.evidence_by_id != user.pk,
                "can_waive": pending and lead,
                "items": obligation_rules.evidence_items(o.consideration.code, o.parameters),
                "blocks": (o.parameters or {}).get("blocks") or [],
            }
        )
    superseded = obligation_list(use_case=use_case, active=False)
    return render(
        request,
        "governance/obligations_use_case.html",
        {
            "use_case": use_case,
            "rows": rows,
            "superseded": superseded,
            "evidence_form": EvidenceForm(),
            "waive_form": WaiveForm(),
            "refused_pk": refused_pk,
            "refusal": refusal,
            # A refused obligation no longer listed (superseded meanwhile): said on top.
            "refusal_on_top": refusal and all(r["obligation"].pk != refused_pk for r in rows),
            "posted": request.POST if refusal else {},
        },
    )


def _done(request, obligation, action):
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        page = partial(_page, request, obligation.use_case, refused_pk=obligation.pk)
        return refused(request, page, exc)
    messages.success(request, f"{obligation.consideration}: saved.")
    return redirect("governance:obligations-use-case", pk=obligation.use_case_id)


@role_required
@require_POST
def obligation_evidence_view(request: HttpRequest, pk: int, obligation_pk: int) -> HttpResponse:
    obligation = _obligation_or_404(request, pk, obligation_pk)
    form = EvidenceForm(request.POST, request.FILES)
    form.is_valid()
    data = form.cleaned_data
    return _done(
        request,
        obligation,
        lambda: obligation_submit_evidence(
            obligation=obligation,
            by=request.user,
            link=data.get("link") or "",
            file=data.get("file"),
        ),
    )


@role_required
@require_POST
def obligation_accept_view(request: HttpRequest, pk: int, obligation_pk: int) -> HttpResponse:
    obligation = _obligation_or_404(request, pk, obligation_pk)
    return _done(
        request, obligation, lambda: obligation_accept(obligation=obligation, by=request.user)
    )


@role_required
@require_POST
def obligation_waive_view(request: HttpRequest, pk: int, obligation_pk: int) -> HttpResponse:
    obligation = _obligation_or_404(request, pk, obligation_pk)
    justification = request.POST.get("justification", "")
    return _done(
        request,
        obligation,
        lambda: obligation_waive(
            obligation=obligation, by=request.user, justification=justification
        ),
    )


@role_required
def obligation_portfolio(request: HttpRequest) -> HttpResponse:
    """Every active obligation of the portfolio, still owed by default (the home page's
    "Obligations open" figure; ``?state=overdue`` its overdue ones)."""
    data = request.GET.copy()
    data.setdefault("state", "owed")
    rows = obligation_list().select_related("model_version__model")
    filterset = ObligationListFilterSet(data, queryset=Obligation.objects.filter(active=True))
    valid = filterset.is_valid()
    ordered = (filterset.qs if valid else rows.none()).order_by("due_date", "pk")
    page = page_by_ids(ordered, rows, request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "governance/obligations_portfolio.html",
        {
            "filter": filterset,
            "page_obj": page,
            "rows": [(o, o.status in PENDING and o.due_date < today) for o in page.object_list],
        },
        status=200 if valid else 400,
    )
