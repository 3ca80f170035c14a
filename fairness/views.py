"""Pages of the bias summaries (issue #5): a version's scored datasets and summaries
with the upload form, a summary with its live progress bar, tables and charts, its
JSON status (polled by static/js/progress.js) and its CSV export.

Everyone with a role reads; the services decide who uploads and runs (data scientists
of the use case's team and governance leads): a refusal is a 403, bad input a 400 with
the form and the column and row of the problem, each on the page it was made from, and
nothing stored.
"""

from __future__ import annotations

import csv
import re
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.web import chart_figure, get_or_404, refused, role_required
from core.audit_chain import spreadsheet_safe
from core.charts import bias as charts
from fairness import selectors as sel
from fairness import services as svc
from fairness.models import BiasSummary, ScoredDataset, WarehouseConnection
from inventory.models import ModelVersion
from reviews.models import Finding

FAVOURABLE_CHOICES = [
    (1, "Prediction 1 is favourable (e.g. approved, selected)"),
    (0, "Prediction 1 is adverse (e.g. high risk, rejected)"),
]


def parse_reference(text: str) -> str | dict[str, str]:
    """'best', one group label, or 'attribute = label' pairs separated by ';' or lines."""
    text = (text or "").strip()
    if not text or text == "best":
        return "best"
    if "=" not in text:
        return text
    out = {}
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValidationError({"reference": f"Write 'attribute = group', not {part!r}."})
        key, value = part.split("=", 1)
        out[key.strip()] = value.strip()
    return out


class SummaryOptionsForm(forms.Form):
    reference = forms.CharField(
        required=False,
        initial="best",
        help_text="'best' (the group with the best rate), or e.g. race = Caucasian; sex = Male.",
    )
    min_group_size = forms.IntegerField(
        min_value=0, max_value=1_000_000_000, initial=30, label="Minimum group size"
    )
    favourable_prediction = forms.TypedChoiceField(
        choices=FAVOURABLE_CHOICES, coerce=int, initial=1, label="Meaning of prediction 1"
    )


class UploadForm(SummaryOptionsForm):
    file = forms.FileField(help_text="CSV (UTF-8) or Parquet.")
    outcome = forms.CharField(max_length=200, label="Outcome column (ground truth, 0/1)")
    prediction = forms.CharField(max_length=200, required=False, label="Prediction column (0/1)")
    score = forms.CharField(max_length=200, required=False, label="Score column (in [0, 1])")
    threshold = forms.FloatField(
        required=False, min_value=0, max_value=1, help_text="Prediction = score >= threshold."
    )
    sensitive = forms.CharField(
        max_length=2000,
        label="Sensitive attributes",
        help_text="One or more columns, separated by commas (e.g. race, sex).",
    )
    weight = forms.CharField(max_length=200, required=False, label="Weight column (optional)")
    timestamp = forms.CharField(max_length=200, required=False, label="Timestamp column (optional)")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = [
        "file",
        "outcome",
        "prediction",
        "score",
        "threshold",
        "sensitive",
        "weight",
        "timestamp",
        "reference",
        "min_group_size",
        "favourable_prediction",
        "description",
    ]

    def mapping(self) -> dict:
        d = self.cleaned_data
        return {
            "outcome": d["outcome"].strip(),
            "prediction": d["prediction"].strip() or None,
            "score": d["score"].strip() or None,
            "threshold": d["threshold"],
            "sensitive": [s.strip() for s in d["sensitive"].split(",") if s.strip()],
            "weight": d["weight"].strip() or None,
            "timestamp": d["timestamp"].strip() or None,
        }


class QueryForm(UploadForm):
    """A query source (issue 17): a registered connection and a read-only SELECT."""

    file = None
    connection = forms.ModelChoiceField(
        queryset=WarehouseConnection.objects.filter(active=True).order_by("name"),
        to_field_name="name",
        help_text="Registered by the governance leads.",
    )
    query = forms.CharField(
        max_length=20_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text="One SELECT (or WITH ... SELECT) returning the mapped columns.",
    )

    field_order = ["connection", "query", *UploadForm.field_order[1:]]


def _version_or_404(pk: int) -> ModelVersion:
    return get_or_404(
        lambda pk: ModelVersion.objects.select_related("model__use_case").get(pk=pk), pk=pk
    )


def _summary_or_404(pk: int) -> BiasSummary:
    return get_or_404(sel.bias_summary_get, pk=pk)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            if field == "mapping":
                target = None
            for e in errors:
                form.add_error(target, " ".join(e.messages))
    else:
        form.add_error(None, " ".join(exc.messages))


def _version_page(
    request, version, form, status=200, refusal=None, query_form=None
) -> HttpResponse:
    datasets = list(sel.scored_dataset_list(version=version).prefetch_related("bias_summaries"))
    return render(
        request,
        "fairness/version.html",
        {
            "version": version,
            "use_case": version.model.use_case,
            "datasets": datasets,
            "validating": any(d.status == ScoredDataset.Status.VALIDATING for d in datasets),
            "summaries": sel.bias_summary_list(version=version),
            "form": form,
            "query_form": query_form or QueryForm(),
            "can_run": svc.can_run(request.user, version),
            "max_bytes": svc.max_upload_bytes(),
            "refusal": refusal,
        },
        status=status,
    )


@role_required
def bias_version_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's scored datasets and bias summaries, and the upload form."""
    version = _version_or_404(pk)
    return _version_page(request, version, UploadForm())


@role_required
@require_POST
def dataset_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a scored dataset and request its summary; 400 with the reason on bad input."""
    version = _version_or_404(pk)
    if not svc.can_run(request.user, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads attach data."
        )
    limit = svc.max_upload_bytes()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit + 1024 * 1024:  # refused before the body is read
        form = UploadForm()
        form.add_error(None, f"The upload is {length:,} bytes, over the limit of {limit:,}.")
        return _version_page(request, version, form, status=400)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _version_page(request, version, form, status=400)
    try:
        options = {
            "reference": parse_reference(form.cleaned_data["reference"]),
            "min_group_size": form.cleaned_data["min_group_size"],
            "favourable_prediction": form.cleaned_data["favourable_prediction"],
        }
        dataset, created = svc.scored_dataset_upload(
            version=version,
            by=request.user,
            file=form.cleaned_data["file"],
            mapping=form.mapping(),
            description=form.cleaned_data["description"],
            summary=options,
        )
        if not created and dataset.is_valid:
            summary, _ = svc.bias_summary_request(dataset=dataset, by=request.user, **options)
            messages.info(request, "These exact bytes were already attached; nothing new stored.")
            return redirect("fairness:bias-summary", pk=summary.pk)
    except ValidationError as exc:
        _add_errors(form, exc)
        return _version_page(request, version, form, status=400)
    if created:
        messages.success(
            request,
            f"{dataset.original_name} received: a worker checks every row, then the summary "
            "starts. Follow it below.",
        )
    else:
        messages.info(request, "These exact bytes were already received and are being checked.")
    return redirect(reverse("fairness:bias-version", args=[version.pk]) + f"#dataset-{dataset.pk}")


@role_required
@require_POST
def dataset_query_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a query on a registered connection and request its summary (issue 17);
    400 with the reason (a refused query, an unknown column, an engine error)."""
    version = _version_or_404(pk)
    if not svc.can_run(request.user, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads attach data."
        )
    form = QueryForm(request.POST)
    page = partial(_version_page, request, version, UploadForm(), status=400)
    if not form.is_valid():
        return page(query_form=form)
    try:
        dataset, created = svc.scored_query_create(
            version=version,
            by=request.user,
            connection=form.cleaned_data["connection"],
            query=form.cleaned_data["query"],
            mapping=form.mapping(),
            description=form.cleaned_data["description"],
        )
        summary, _ = svc.bias_summary_request(
            dataset=dataset,
            by=request.user,
            reference=parse_reference(form.cleaned_data["reference"]),
            min_group_size=form.cleaned_data["min_group_size"],
            favourable_prediction=form.cleaned_data["favourable_prediction"],
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return page(query_form=form)
    if created:
        messages.success(request, f"Query on {dataset.connection.name} attached.")
    return redirect("fairness:bias-summary", pk=summary.pk)


@role_required
@require_POST
def summary_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Another summary of a stored dataset with other options (or a failed one again)."""
    dataset = get_or_404(sel.scored_dataset_get, pk=pk)
    if not svc.can_run(request.user, dataset.model_version):
        # Before the options are read: whoever may not run one is told so (issue 12).
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads run summaries."
        )
    form = SummaryOptionsForm(request.POST)
    page = partial(_version_page, request, dataset.model_version, UploadForm())
    if not form.is_valid():
        why = " ".join(e for errs in form.errors.values() for e in errs)
        return refused(request, page, f"Check the options: {why}", status=400)
    try:
        summary, _ = svc.bias_summary_request(
            dataset=dataset,
            by=request.user,
            reference=parse_reference(form.cleaned_data["reference"]),
            min_group_size=form.cleaned_data["min_group_size"],
            favourable_prediction=form.cleaned_data["favourable_prediction"],
        )
    except ValidationError as exc:
        return refused(request, page, exc)
    return redirect("fairness:bias-summary", pk=summary.pk)


def summary_charts(result: dict) -> list[dict]:
    """The figures of a done summary, each with the ids its template needs."""
    out = []
    fav = result.get("favourable_prediction", 1)
    for i, block in enumerate(result["by_attribute"]):
        name = block["name"]
        out.append(
            {
                "id": f"chart-rates-{i}",
                "block": name,
                "title": f"Rates by {name}",
                "label": f"Bar chart of selection rate, TPR and FPR for each group of {name}, "
                "with 95% intervals and the four-fifths line; the numbers are in the table.",
                "figure": chart_figure(charts.group_rates(block, favourable_prediction=fav)),
            }
        )
        if not block["intersection"]:
            out.append(
                {
                    "id": f"chart-odds-{i}",
                    "block": name,
                    "title": f"TPR against FPR by {name}",
                    "label": f"Scatter of true-positive rate against false-positive rate for "
                    f"each group of {name}.",
                    "figure": chart_figure(charts.tpr_fpr(block)),
                }
            )
        elif len(block["columns"]) == 2:
            for metric in ("selection_rate", "fpr"):
                out.append(
                    {
                        "id": f"chart-heat-{metric}-{i}",
                        "block": name,
                        "title": f"{charts.METRIC_LABELS[metric]} by {name}",
                        "label": f"Heatmap of {charts.METRIC_LABELS[metric]} for each "
                        f"combination of {name}.",
                        "figure": chart_figure(charts.intersection_heatmap(block, metric=metric)),
                    }
                )
    for chart in out:
        chart["data_id"] = f"{chart['id']}-data"
    return out


@role_required
def summary_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A summary: progress while it runs, tables and charts when done, the reason when
    it failed."""
    return _summary_page(request, _summary_or_404(pk))


def _summary_page(request, summary, *, refusal=None) -> HttpResponse:
    """A summary's page; ``refusal`` (a refused submission) is shown under its actions."""
    dataset = summary.dataset
    version = dataset.model_version
    result = summary.result if summary.status == BiasSummary.Status.DONE else None
    findings = Finding.objects.filter(
        model_version=version, source=Finding.Source.BIAS, key__startswith=f"bias:{summary.pk}:"
    )
    return render(
        request,
        "fairness/summary.html",
        {
            "summary": summary,
            "dataset": dataset,
            "version": version,
            "use_case": version.model.use_case,
            "progress": sel.bias_summary_progress(summary),
            "result": result,
            "tables": sel.bias_summary_tables(result) if result else [],
            "charts": summary_charts(result) if result else [],
            "findings": findings,
            "can_run": svc.can_run(request.user, version),
            "options_form": SummaryOptionsForm(),
            "refusal": refusal,
        },
    )


@role_required
def summary_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    """The summary's status and progress as JSON (the progress bar polls it)."""
    summary = _summary_or_404(pk)
    data = sel.bias_summary_progress(summary)
    data["url"] = reverse("fairness:bias-summary", args=[summary.pk])
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


@role_required
def dataset_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    """An upload's validation state and progress as JSON (the progress bar polls it)."""
    dataset = get_or_404(sel.scored_dataset_get, pk=pk)
    response = JsonResponse(sel.scored_dataset_progress(dataset))
    response["Cache-Control"] = "no-store"
    return response


@role_required
def summary_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The summary as CSV; cells starting with = + - @ are neutralised with a quote."""
    summary = _summary_or_404(pk)
    if summary.status != BiasSummary.Status.DONE:
        return HttpResponse("The summary is not finished.", status=409, content_type="text/plain")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bias-summary-{summary.pk}.csv"'
    writer = csv.writer(response)
    for row in sel.bias_summary_csv_rows(summary.result):
        writer.writerow([spreadsheet_safe(c) for c in row])
    return response


@role_required
@require_POST
def summary_evidence_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit the summary as evidence for the bias-and-harm-testing obligation."""
    summary = _summary_or_404(pk)
    try:
        obligation = svc.bias_summary_submit_evidence(summary=summary, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return refused(request, partial(_summary_page, request, summary), exc)
    messages.success(
        request,
        f"Submitted as evidence for {obligation.consideration.name} "
        f"(SHA-256 {obligation.evidence_sha256[:12]}…).",
    )
    return redirect("fairness:bias-summary", pk=summary.pk)
