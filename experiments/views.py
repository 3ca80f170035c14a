"""Pages of pre-registered experiments (issue #7): the list, a draft's form (errors
per field, from the protocol's validation), the experiment (protocol, sample size and
duration, accrual against the plan, data quality and the result once allowed,
signatures, history), the signing dialogs (start = sign the protocol; sign the
result), abandoning and the outcomes upload.

Everyone with a role reads; the services decide who acts (a refusal is a 403 with the
reason, bad input a 400 with the form's errors, a state that no longer allows it a
409, each on the page it was made from, and nothing written). The result is
never put in a page's context before the pre-registered end: the view reads it only
through ``selectors.experiments.visible_result``.

The two figure builders at the top are pure (plain data in, a Plotly figure out).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.sso.signing import signing_data, signing_form
from accounts.web import (
    chart_figure,
    get_or_404,
    refusal_reason,
    refusal_status,
    refused,
    role_required,
)
from audit.views import history_context
from core.charts.experiments import accrual_figure, result_figure
from experiments import permissions
from experiments import selectors as sel
from experiments import services as svc
from experiments.filters import ExperimentFilterSet
from experiments.forms import ExperimentForm, OverrideForm, SignForm, UploadForm, add_errors
from experiments.models import Experiment
from inventory.models import UseCase
from reviews.models import Signature

# --- Pages ---------------------------------------------------------------------------------


def _experiment_or_404(request: HttpRequest, pk: int) -> Experiment:
    return get_or_404(sel.experiment_get, pk=pk, user=request.user)


def _use_case_or_404(pk: int) -> UseCase:
    return get_or_404(lambda pk: UseCase.objects.get(pk=pk), pk=pk)


@role_required
def experiment_list_view(request: HttpRequest) -> HttpResponse:
    filterset = ExperimentFilterSet(request.GET, queryset=sel.experiment_list(user=request.user))
    chosen = filterset.form.cleaned_data if filterset.is_valid() else {}
    use_case_id = chosen.get("use_case")
    use_case = UseCase.objects.filter(pk=use_case_id).first() if use_case_id else None
    return render(
        request,
        "experiments/experiment_list.html",
        {
            "filter": filterset,
            "experiments": filterset.qs[:200],
            "use_case": use_case,
            "status": chosen.get("status") or "",
            "statuses": Experiment.Status.choices,
            "can_create": use_case is not None
            and permissions.can_run_experiment(request.user, use_case),
        },
    )


def _form_page(request, use_case, form, experiment=None, status=200) -> HttpResponse:
    return render(
        request,
        "experiments/experiment_form.html",
        {"use_case": use_case, "form": form, "experiment": experiment},
        status=status,
    )


def _save(request, use_case, form, experiment=None) -> HttpResponse:
    if not form.is_valid():
        return _form_page(request, use_case, form, experiment, status=400)
    try:
        kwargs = form.service_kwargs()
        if experiment is None:
            experiment = svc.experiment_create(use_case=use_case, by=request.user, **kwargs)
            messages.success(request, "Draft registered. Sign the protocol to start it.")
        else:
            svc.experiment_update(experiment=experiment, by=request.user, **kwargs)
            messages.success(request, "Draft saved.")
    except ValidationError as exc:
        add_errors(form, exc)
        return _form_page(request, use_case, form, experiment, status=400)
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
def experiment_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    use_case = _use_case_or_404(pk)
    if not permissions.can_run_experiment(request.user, use_case):
        raise PermissionDenied(
            "Only the use case's data scientists and governance leads register experiments."
        )
    if request.method != "POST":
        return _form_page(request, use_case, ExperimentForm(use_case=use_case))
    return _save(request, use_case, ExperimentForm(request.POST, use_case=use_case))


@role_required
def experiment_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    use_case = experiment.use_case
    if not permissions.can_run_experiment(request.user, use_case):
        raise PermissionDenied("Only the use case's data scientists and governance leads edit.")
    if not experiment.is_draft:
        return refused(
            request,
            partial(_detail_page, request, experiment),
            "The protocol is signed and locked; it cannot be edited.",
            status=409,
        )
    if request.method != "POST":
        form = ExperimentForm(initial=ExperimentForm.initial_from(experiment), use_case=use_case)
        return _form_page(request, use_case, form, experiment)
    return _save(request, use_case, ExperimentForm(request.POST, use_case=use_case), experiment)


def _detail_context(request: HttpRequest, experiment: Experiment) -> dict[str, Any]:
    user = request.user
    accrual = sel.accrual(experiment)
    shown = sel.visible_result(experiment)
    result = shown["result"]
    charts = []
    if experiment.started_at:
        charts.append(
            {
                "id": "accrual-chart",
                "data_id": "accrual-data",
                "label": "Accrual against the planned sample size and duration",
                "figure": chart_figure(accrual_figure(accrual.to_dict())),
            }
        )
    if result and result.get("arms"):
        charts.append(
            {
                "id": "result-chart",
                "data_id": "result-data",
                "label": f"{experiment.primary_metric} per arm with confidence intervals",
                "figure": chart_figure(
                    result_figure(
                        result["arms"],
                        metric=experiment.primary_metric,
                        confidence=1 - float(experiment.protocol["alpha"]),
                    )
                ),
            }
        )
    can_run = permissions.can_run_experiment(user, experiment.use_case)
    signed = experiment.signatures.filter(meaning=Signature.Meaning.RESULT_SIGNED).exists()
    return {
        "experiment": experiment,
        "use_case": experiment.use_case,
        "protocol": experiment.protocol,
        "sample_size": experiment.sample_size,
        "accrual": accrual,
        "charts": charts,
        "result": result,
        "unit_rows": sel.unit_rows(result),
        "srm_rows": bool(((result or {}).get("data_quality") or {}).get("srm")),
        "looks": shown["looks"],
        "signatures": experiment.signatures.select_related("signer").order_by("signed_at", "id"),
        "batches": experiment.batches.select_related("uploaded_by")[:20],
        "can_run": can_run,
        "can_start": can_run and experiment.is_draft,
        "can_abandon": can_run and experiment.status in ("draft", "running"),
        "can_request_analysis": can_run and not svc.analysis_request_refusal(experiment),
        "can_upload": can_run and experiment.status in ("running", "ended"),
        "can_sign_result": sel.result_signable(experiment)
        and not signed
        and permissions.can_sign_experiment_result(user, experiment),
        "result_valid": sel.result_signable(experiment),
        "override": sel.result_override(experiment),
        "can_override": experiment.status == "analysed"
        and not svc.override_refusal(experiment, user)[0],
        "promotion_refusal": sel.promotion_support_refusal(experiment)
        if sel.result_signable(experiment)
        else "",
        "can_submit_evidence": signed
        and not experiment.evidence_sha256
        and sel.result_signable(experiment)
        and not sel.promotion_support_refusal(experiment)
        and permissions.can_sign_experiment_result(user, experiment),
        "result_signed": signed,
        "csv_columns": svc.outcomes_csv_columns(experiment),
        "recipe": svc.assignment_recipe(experiment)
        if sel.recipe_visible(experiment, user)
        else None,
        **history_context(experiment, user),
    }


@role_required
def experiment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _experiment_or_404(request, pk))


def _detail_page(
    request, experiment, *, upload_form=None, refusal=None, refusal_for="", status=200
):
    """The experiment's page; ``refusal`` (a refused act) is shown under its actions,
    or beside the abandon form (``refusal_for="abandon"``), what was typed kept."""
    return render(
        request,
        "experiments/experiment_detail.html",
        {
            **_detail_context(request, experiment),
            "upload_form": upload_form or UploadForm(),
            "refusal": refusal,
            "refusal_for": refusal_for,
            "posted": request.POST if refusal else {},
        },
        status=status,
    )


def _sign_page(request, experiment, form, what, status=200, refusal=None) -> HttpResponse:
    signing_form(request, form)
    if what == "start":
        document = sel.protocol_document(experiment)
    elif what == "override":
        document = svc.override_document(experiment, "")
    else:
        document = svc.result_document(experiment)
    from core import promotion_rules as rules

    return render(
        request,
        "experiments/experiment_sign.html",
        {
            "experiment": experiment,
            "form": form,
            "what": what,
            "document_hash": rules.manifest_hash(document),
            "refusal": refusal,
            "verdict": (experiment.result or {}).get("verdict") if what != "start" else "",
        },
        status=status,
    )


def _sign(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    if what == "result" and sel.result_not_signable_reason(experiment):
        # Data quality first (issue 14): an invalid result is never signed, 409.
        return _sign_page(
            request, experiment, SignForm(), what, 409, sel.result_not_signable_reason(experiment)
        )
    if request.method != "POST":
        return _sign_page(request, experiment, SignForm(), what)
    form = signing_form(request, SignForm(request.POST))
    if not form.is_valid():
        return _sign_page(request, experiment, form, what, status=400)
    data = signing_data(request, form)
    try:
        if what == "start":
            svc.experiment_start(
                experiment=experiment,
                by=request.user,
                password=data["password"],
                reason=data["reason"],
            )
            messages.success(request, "Protocol signed and locked: the experiment is running.")
        else:
            outcome = svc.experiment_result_sign(
                experiment=experiment,
                by=request.user,
                password=data["password"],
                reason=data["reason"],
            )
            if outcome.evidence is not None:
                messages.success(
                    request,
                    "Result signed and submitted as preproduction-verification evidence.",
                )
            else:
                messages.warning(
                    request,
                    f"Result signed, but not submitted as evidence: {outcome.evidence_error}",
                )
    except ValidationError as exc:
        if refusal_status(exc) == 409:
            return _sign_page(request, experiment, form, what, 409, refusal_reason(exc))
        add_errors(form, exc)
        return _sign_page(request, experiment, form, what, status=400)
    except PermissionDenied as exc:
        return _sign_page(request, experiment, form, what, status=403, refusal=str(exc))
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
def experiment_override_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A governance lead declares a result that failed its data-quality step valid,
    with a signed justification (issue 14). Refused: 403 (not a lead, the owner), 409
    (nothing to override), 400 (no justification, wrong password); nothing written."""
    experiment = _experiment_or_404(request, pk)
    why, code = svc.override_refusal(experiment, request.user)
    if code == 403:
        raise PermissionDenied(why)
    form = signing_form(request, OverrideForm(request.POST if request.method == "POST" else None))
    if why:
        return _sign_page(request, experiment, form, "override", 409, why)
    if request.method != "POST":
        return _sign_page(request, experiment, form, "override")
    if not form.is_valid():
        return _sign_page(request, experiment, form, "override", status=400)
    try:
        svc.experiment_result_override(
            experiment=experiment, by=request.user, **signing_data(request, form)
        )
    except ValidationError as exc:
        if refusal_status(exc) == 409:
            return _sign_page(request, experiment, form, "override", 409, refusal_reason(exc))
        add_errors(form, exc)
        return _sign_page(request, experiment, form, "override", status=400)
    except PermissionDenied as exc:
        return _sign_page(request, experiment, form, "override", 403, str(exc))
    messages.success(request, "Data-quality step overridden: the result is shown and signable.")
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
def experiment_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing dialog that starts the experiment and locks its protocol."""
    return _sign(request, pk, "start")


@role_required
def experiment_sign_result_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _sign(request, pk, "result")


@role_required
@require_POST
def experiment_abandon_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    try:
        svc.experiment_abandon(
            experiment=experiment, by=request.user, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        return refused(
            request, partial(_detail_page, request, experiment, refusal_for="abandon"), exc
        )
    messages.success(request, "Experiment abandoned.")
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
@require_POST
def experiment_analyse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner asks for the analysis once the test has ended (issue 14); before the
    end a 409 on the page saying what is missing, nothing written."""
    experiment = _experiment_or_404(request, pk)
    try:
        svc.experiment_analysis_request(experiment=experiment, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_detail_page, request, experiment), exc)
    messages.success(request, "The test has ended: its analysis is under way.")
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
@require_POST
def experiment_evidence_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    if not permissions.can_sign_experiment_result(request.user, experiment):
        raise PermissionDenied("Only the experiment's owner or a governance lead submits it.")
    try:
        svc.experiment_submit_evidence(experiment=experiment, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_detail_page, request, experiment), exc)
    messages.success(request, "Submitted as preproduction-verification evidence.")
    return redirect("experiments:experiment-detail", pk=experiment.pk)


@role_required
@require_POST
def experiment_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = svc.outcomes_upload_file(
                experiment=experiment,
                by=request.user,
                data=upload.read(),
                name=upload.name,
                mapping=form.mapping(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{batch.rows:,} rows recorded.")
            return redirect("experiments:experiment-detail", pk=experiment.pk)
    return _detail_page(request, experiment, upload_form=form, status=400)
