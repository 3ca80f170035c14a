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

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.web import chart_figure, get_or_404, refused, role_required
from audit.views import history_context
from core.charts.experiments import accrual_figure, result_figure
from experiments import permissions
from experiments import selectors as sel
from experiments import services as svc
from experiments.filters import ExperimentFilterSet
from experiments.models import Experiment
from inventory.models import ModelVersion, UseCase
from reviews.models import Signature

# --- Forms ---------------------------------------------------------------------------------


class ExperimentForm(forms.Form):
    name = forms.CharField(max_length=200)
    hypothesis = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    champion = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), required=False)
    challenger = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), required=False)
    design = forms.ChoiceField(choices=Experiment.Design.choices)
    primary_metric = forms.CharField(max_length=200, help_text="e.g. click-through per customer")
    metric_kind = forms.ChoiceField(choices=Experiment.MetricKind.choices)
    population = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    splitting = forms.ChoiceField(choices=Experiment.Splitting.choices, label="Split by")
    entity_key_name = forms.CharField(max_length=100, required=False, label="Entity key")
    champion_share = forms.FloatField(required=False, initial=50, label="Champion share (%)")
    challenger_share = forms.FloatField(required=False, initial=50, label="Challenger share (%)")
    alpha = forms.FloatField(initial=0.05, help_text="Type I error rate, in (0, 1).")
    power = forms.FloatField(initial=0.8, help_text="In (0, 1), above alpha.")
    minimum_effect = forms.FloatField(
        help_text="Smallest difference worth detecting, in the metric's unit (e.g. 0.01)."
    )
    alternative = forms.ChoiceField(
        choices=[("two-sided", "Two-sided"), ("one-sided", "One-sided (challenger better)")]
    )
    higher_is_better = forms.TypedChoiceField(
        choices=[("true", "Higher is better"), ("false", "Lower is better")],
        coerce=lambda v: v == "true",
        initial="true",
        label="Direction",
    )
    baseline_proportion = forms.FloatField(required=False, help_text="Proportion metrics.")
    standard_deviation = forms.FloatField(
        required=False, help_text="Mean metrics (shadow: sd of the paired differences)."
    )
    discordant_proportion = forms.FloatField(
        required=False, help_text="Shadow proportions: expected share of disagreements."
    )
    daily_traffic = forms.FloatField(required=False, help_text="Eligible units per day.")
    interim_looks = forms.CharField(
        required=False, help_text="Optional information fractions, e.g. 0.5, 0.75."
    )
    spending = forms.ChoiceField(
        choices=[("obrien-fleming", "O'Brien-Fleming"), ("pocock", "Pocock")], required=False
    )
    guardrails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name; proportion or mean; tolerance; higher or lower "
        "(is better), e.g. complaint_rate; proportion; 0.002; lower",
    )

    def __init__(self, *args, use_case: UseCase, **kwargs):
        super().__init__(*args, **kwargs)
        versions = ModelVersion.objects.filter(model__use_case=use_case).select_related("model")
        self.fields["champion"].queryset = versions
        self.fields["challenger"].queryset = versions

    @staticmethod
    def initial_from(experiment: Experiment) -> dict[str, Any]:
        p = experiment.protocol
        split = p.get("split") or {}
        return {
            "name": experiment.name,
            "hypothesis": experiment.hypothesis,
            "champion": experiment.champion_id,
            "challenger": experiment.challenger_id,
            "design": experiment.design,
            "primary_metric": experiment.primary_metric,
            "metric_kind": experiment.metric_kind,
            "population": experiment.population,
            "splitting": experiment.splitting,
            "entity_key_name": experiment.entity_key_name,
            "champion_share": split.get("champion", 50),
            "challenger_share": split.get("challenger", 50),
            "alpha": p.get("alpha"),
            "power": p.get("power"),
            "minimum_effect": p.get("minimum_effect"),
            "alternative": p.get("alternative"),
            "higher_is_better": "true" if p.get("higher_is_better", True) else "false",
            "baseline_proportion": p.get("baseline_proportion"),
            "standard_deviation": p.get("standard_deviation"),
            "discordant_proportion": p.get("discordant_proportion"),
            "daily_traffic": p.get("daily_traffic"),
            "interim_looks": ", ".join(f"{t:g}" for t in p.get("interim_looks") or []),
            "spending": p.get("spending"),
            "guardrails": "\n".join(
                f"{g['name']}; {g['metric_kind']}; {g['tolerance']:g}; "
                f"{'higher' if g['higher_is_better'] else 'lower'}"
                for g in p.get("guardrails") or []
            ),
        }

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned form as the services' arguments; ValidationError for the few
        things parsed here (interim looks, guardrail lines)."""
        d = self.cleaned_data
        looks = []
        for part in (d.get("interim_looks") or "").replace(";", ",").split(","):
            if part.strip():
                try:
                    looks.append(float(part))
                except ValueError:
                    raise ValidationError(
                        {"interim_looks": f"{part.strip()!r} is not a number."}
                    ) from None
        guardrails = []
        for i, line in enumerate((d.get("guardrails") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 4:
                raise ValidationError(
                    {
                        "guardrails": f"Line {i}: write name; proportion or mean; tolerance; "
                        "higher or lower."
                    }
                )
            try:
                tolerance = float(parts[2])
            except ValueError:
                raise ValidationError(
                    {"guardrails": f"Line {i}: the tolerance {parts[2]!r} is not a number."}
                ) from None
            if parts[3] not in ("higher", "lower"):
                raise ValidationError({"guardrails": f"Line {i}: say higher or lower."})
            guardrails.append(
                {
                    "name": parts[0],
                    "metric_kind": parts[1],
                    "tolerance": tolerance,
                    "higher_is_better": parts[3] == "higher",
                }
            )
        protocol = {
            "alpha": d["alpha"],
            "power": d["power"],
            "minimum_effect": d["minimum_effect"],
            "alternative": d["alternative"],
            "higher_is_better": d["higher_is_better"],
            "baseline_proportion": d.get("baseline_proportion"),
            "standard_deviation": d.get("standard_deviation"),
            "discordant_proportion": d.get("discordant_proportion"),
            "daily_traffic": d.get("daily_traffic"),
            "interim_looks": looks,
            "spending": d.get("spending") or "obrien-fleming",
            "guardrails": guardrails,
            "split": {"champion": d.get("champion_share"), "challenger": d.get("challenger_share")}
            if d["design"] == "ab"
            else None,
        }
        return {
            "name": d["name"],
            "hypothesis": d.get("hypothesis", ""),
            "champion": d.get("champion"),
            "challenger": d.get("challenger"),
            "design": d["design"],
            "metric_kind": d["metric_kind"],
            "primary_metric": d["primary_metric"],
            "population": d["population"],
            "splitting": d["splitting"],
            "entity_key_name": d.get("entity_key_name") or "",
            "protocol": protocol,
        }


def form_field_for(error_field: str, form: forms.Form) -> str | None:
    """Which form field a service error (a ProtocolError's field) belongs to."""
    if error_field in form.fields:
        return error_field
    if error_field.startswith("split"):
        return "challenger_share" if error_field.endswith(".challenger") else "champion_share"
    for prefix in ("interim_looks", "guardrails"):
        if error_field.startswith(prefix):
            return prefix
    return None


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = form_field_for(field, form)
            for e in errors:
                text = " ".join(e.messages)
                if target is None and field not in ("__all__", "rows", "file"):
                    text = f"{field}: {text}"
                form.add_error(target, text)
    else:
        form.add_error(None, " ".join(exc.messages))


class SignForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password: signing needs it every time.",
    )


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8) with a header row.")


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
        "looks": shown["looks"],
        "signatures": experiment.signatures.select_related("signer").order_by("signed_at", "id"),
        "batches": experiment.batches.select_related("uploaded_by")[:20],
        "can_run": can_run,
        "can_start": can_run and experiment.is_draft,
        "can_abandon": can_run and experiment.status in ("draft", "running"),
        "can_upload": can_run and experiment.status in ("running", "ended"),
        "can_sign_result": experiment.status == "analysed"
        and not signed
        and permissions.can_sign_experiment_result(user, experiment),
        "can_submit_evidence": signed
        and not experiment.evidence_sha256
        and permissions.can_sign_experiment_result(user, experiment),
        "result_signed": signed,
        "csv_columns": svc.outcomes_csv_columns(experiment),
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
    if what == "start":
        document = sel.protocol_document(experiment)
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
            "verdict": (experiment.result or {}).get("verdict") if what == "result" else "",
        },
        status=status,
    )


def _sign(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    experiment = _experiment_or_404(request, pk)
    if what == "result" and not sel.result_available(experiment):
        return _sign_page(
            request,
            experiment,
            SignForm(),
            what,
            409,
            "The result can be signed once the pre-registered analysis is done.",
        )
    if request.method != "POST":
        return _sign_page(request, experiment, SignForm(), what)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, experiment, form, what, status=400)
    data = form.cleaned_data
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
        add_errors(form, exc)
        return _sign_page(request, experiment, form, what, status=400)
    except PermissionDenied as exc:
        return _sign_page(request, experiment, form, what, status=403, refusal=str(exc))
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
            batch = svc.outcomes_upload_csv(
                experiment=experiment, by=request.user, data=upload.read(), name=upload.name
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{batch.rows:,} rows recorded.")
            return redirect("experiments:experiment-detail", pk=experiment.pk)
    return _detail_page(request, experiment, upload_form=form, status=400)
