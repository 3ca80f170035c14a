"""Pages of Step 2, the ethical position: the organisation's position (current,
pending, history), its answer and approve forms, one answer set, the comparison of two
answer sets, a questionnaire version, and a use case's ethics answers and form.

Every page needs a governance role; governance leads answer and approve the
organisation's position, whoever may change a use case answers its questions (checked
here for the buttons and again in the services). A refused answer or approval is
answered on its page with the reason: 400, 403, or 409 when decided meanwhile.
"""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import is_governance_lead
from accounts.sso.signing import reauth_provider, signing_credential
from accounts.web import add_service_errors, get_or_404, refusal_status, refused, role_required
from governance.forms_ethics import TOLERANCE_FIELD, EthicsAnswersForm, EthicsCompareForm
from governance.models import EthicsTemplate
from governance.selectors import (
    ethics_answer_set_get,
    ethics_answer_set_list,
    ethics_answers_display,
    ethics_compare,
    ethics_position_current,
    ethics_position_pending,
    ethics_question_list,
    ethics_questions_as_rules,
    ethics_use_case_latest,
    ethics_version_current,
    ethics_version_get,
    ethics_version_list,
    use_cases_without_ethics_answers,
)
from governance.selectors.ethics import ethics_deviation_list
from governance.services import (
    ethics_position_answer,
    ethics_position_approve,
    ethics_use_case_answer,
)
from inventory import permissions as inventory_permissions
from inventory.selectors import use_case_get

Scope = EthicsTemplate.Scope


def _can_approve(user, answer_set) -> bool:
    return (
        answer_set is not None and is_governance_lead(user) and answer_set.answered_by_id != user.pk
    )


@role_required
def ethics_position(request: HttpRequest) -> HttpResponse:
    return _position_page(request)


def _position_page(request: HttpRequest, *, refusal: str | None = None) -> HttpResponse:
    """The organisation's position; ``refusal`` is shown beside the approval form."""
    current = ethics_position_current()
    pending = ethics_position_pending()
    version = ethics_version_current(scope=Scope.ORGANISATION)
    history = list(ethics_answer_set_list(user=request.user, scope=Scope.ORGANISATION))
    return render(
        request,
        "governance/ethics_position.html",
        {
            "current": current,
            "current_rows": ethics_answers_display(answer_set=current) if current else [],
            "pending": pending,
            "pending_rows": ethics_answers_display(answer_set=pending) if pending else [],
            "can_answer": is_governance_lead(request.user),
            "can_approve": _can_approve(request.user, pending),
            "reauth_provider": reauth_provider(request) if pending else "",
            "version": version,
            "current_outdated": bool(current and version and current.version_id != version.pk),
            "history": history,
            "versions": ethics_version_list(),
            "unanswered_count": use_cases_without_ethics_answers(user=request.user).count(),
            "refusal": refusal,
        },
    )


def _answer_page(
    request, *, version, initial, save, template_context, redirect_url, with_tolerance=False
):
    questions = ethics_questions_as_rules(version=version) if version else []
    if version is None:
        raise Http404("The questionnaire has no published version.")
    status = 200
    if request.method == "POST":
        form = EthicsAnswersForm(request.POST, questions=questions, with_tolerance=with_tolerance)
        status = 400  # shown again: invalid, or refused by the service
        if form.is_valid():
            try:
                save(form)
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, "Your answers were recorded.")
                return redirect(redirect_url)
    else:
        form = EthicsAnswersForm(
            questions=questions, initial=initial, with_tolerance=with_tolerance
        )
    return render(
        request,
        "governance/ethics_form.html",
        {
            **template_context,
            "form": form,
            "version": version,
            "fields": [form[q.code] for q in questions],
            "cancel_url": redirect_url,
        },
        status=status,
    )


@role_required
def ethics_position_answer_view(request: HttpRequest) -> HttpResponse:
    if not is_governance_lead(request.user):
        raise PermissionDenied("Only governance leads answer the organisation's position.")
    version = ethics_version_current(scope=Scope.ORGANISATION)
    latest = ethics_position_pending() or ethics_position_current()

    def save(form):
        ethics_position_answer(
            answers=form.answers(),
            by=request.user,
            note=form.note(),
            version=version,
            tolerance=form.tolerance(),
        )

    initial = dict(latest.answers) if latest else {}
    if latest is not None and latest.tolerance is not None:
        initial[TOLERANCE_FIELD] = latest.tolerance
    return _answer_page(
        request,
        with_tolerance=True,
        version=version,
        initial=initial,
        save=save,
        template_context={
            "title": "Answer the organisation's ethical position",
            "lede": "Your answers are a proposal: another governance lead signs its approval "
            "(password typed again); the approved position stays in force until then.",
            "submit": "Submit for approval",
        },
        redirect_url=reverse("governance:ethics"),
    )


@require_POST
@role_required
def ethics_position_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the approval of a proposed position (password typed again). A refusal
    answers 403 (not a lead, the proposer), 409 (decided meanwhile) or 400 with the
    reason, on the position's page."""
    answer_set = get_or_404(ethics_answer_set_get, user=request.user, pk=pk)
    try:
        ethics_position_approve(
            answer_set=answer_set,
            by=request.user,
            password=signing_credential(request),
            note=request.POST.get("note", "")[:500],
        )
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_position_page, request), exc)
    messages.success(request, "The ethical position is approved.")
    return redirect("governance:ethics")


@role_required
def ethics_answer_set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    answer_set = get_or_404(ethics_answer_set_get, user=request.user, pk=pk)
    return render(
        request,
        "governance/ethics_answer_set.html",
        {
            "answer_set": answer_set,
            "rows": ethics_answers_display(answer_set=answer_set),
            "approval": getattr(answer_set, "approval", None),
        },
    )


@role_required
def ethics_compare_view(request: HttpRequest) -> HttpResponse:
    """?left=<id>&right=<id>: two answer sets side by side."""
    context: dict = {}
    form = EthicsCompareForm(request.GET)
    if not form.is_valid():
        context["error"] = "Choose two answer sets to compare (left and right)."
    else:
        left = get_or_404(ethics_answer_set_get, user=request.user, pk=form.cleaned_data["left"])
        right = get_or_404(ethics_answer_set_get, user=request.user, pk=form.cleaned_data["right"])
        rows = ethics_compare(left=left, right=right)
        context.update(
            left=left,
            right=right,
            rows=rows,
            changed_count=sum(row.changed for row in rows),
        )
    return render(request, "governance/ethics_compare.html", context)


@role_required
def ethics_version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_or_404(ethics_version_get, pk=pk)
    return render(
        request,
        "governance/ethics_version.html",
        {"version": version, "questions": ethics_question_list(version=version)},
    )


@role_required
def ethics_use_case(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    latest = ethics_use_case_latest(use_case=use_case)
    version = ethics_version_current(scope=Scope.USE_CASE)
    return render(
        request,
        "governance/ethics_use_case.html",
        {
            "use_case": use_case,
            "latest": latest,
            "rows": ethics_answers_display(answer_set=latest) if latest else [],
            "outdated": bool(latest and version and latest.version_id != version.pk),
            "history": ethics_answer_set_list(user=request.user, use_case=use_case),
            "can_answer": inventory_permissions.can_change_use_case(request.user, use_case),
            "position": ethics_position_current(),
            "ethics_deviations": ethics_deviation_list(user=request.user, use_case=use_case),
        },
    )


@role_required
def ethics_use_case_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = get_or_404(use_case_get, user=request.user, pk=pk)
    if not inventory_permissions.can_change_use_case(request.user, use_case):
        raise PermissionDenied("You cannot change this use case's ethics answers.")
    version = ethics_version_current(scope=Scope.USE_CASE)
    latest = ethics_use_case_latest(use_case=use_case)

    def save(form):
        ethics_use_case_answer(
            use_case=use_case,
            answers=form.answers(),
            by=request.user,
            note=form.note(),
            version=version,
        )

    return _answer_page(
        request,
        version=version,
        initial=dict(latest.answers) if latest else {},
        save=save,
        template_context={
            "title": f"Ethical questions: {use_case.name}",
            "lede": "Aspects the organisation's approved position holds critical raise the "
            "use case's risk tier; a classified use case is re-evaluated at once.",
            "submit": "Record answers",
            "use_case": use_case,
        },
        redirect_url=reverse("governance:ethics-use-case", kwargs={"pk": use_case.pk}),
    )


@role_required
def ethics_unanswered(request: HttpRequest) -> HttpResponse:
    """The use cases (not retired) that have not answered the current use-case
    questionnaire: the home page's "Ethical questions open" figure, listed."""
    from django.core.paginator import Paginator

    qs = (
        use_cases_without_ethics_answers(user=request.user)
        .select_related("team")
        .order_by("name", "pk")
    )
    return render(
        request,
        "governance/ethics_unanswered.html",
        {"page_obj": Paginator(qs, 50).get_page(request.GET.get("page"))},
    )
