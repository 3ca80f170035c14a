"""Monitoring page of a model version (issue #6): its configuration, production batches
and outcomes, a drift heatmap (feature x window), the reference-vs-window distribution
of a chosen feature, performance over time with its floors, and the alerts with their
acknowledge / resolve forms and history.

Everyone with a role reads; the services decide who configures and sends data (the
team's data scientists, governance leads) and who handles alerts (the monitoring
Accountable, risk officers, governance leads): a refusal is a 403, bad input a 400 with
the form and the reason, and nothing stored.
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.web import chart_figure, get_or_404, int_or_none, refused, role_required
from core.charts import monitoring as charts
from fairness.models import ScoredDataset
from fairness.services import max_upload_bytes
from inventory.models import ModelVersion
from monitoring import selectors as sel
from monitoring import services as svc
from monitoring.models import MonitoringBatch


class ConfigForm(forms.Form):
    reference = forms.ModelChoiceField(
        queryset=ScoredDataset.objects.none(), help_text="Training or validation data."
    )
    numeric_features = forms.CharField(
        required=False, max_length=4000, help_text="Columns, separated by commas."
    )
    categorical_features = forms.CharField(
        required=False, max_length=4000, help_text="Columns, separated by commas."
    )
    timestamp_column = forms.CharField(max_length=200, help_text="With a time zone (UTC offset).")
    prediction_column = forms.CharField(max_length=200, required=False, label="Prediction (0/1)")
    score_column = forms.CharField(max_length=200, required=False, label="Score")
    outcome_column = forms.CharField(max_length=200, required=False, label="Outcome (0/1)")
    id_column = forms.CharField(max_length=200, required=False, label="Prediction id")
    sensitive_columns = forms.CharField(max_length=2000, required=False)
    performance_max_drop = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=svc.DEFAULT_PERFORMANCE_MAX_DROP,
        help_text="Alert when a metric falls this far below the reference's.",
    )

    def __init__(self, *args, version: ModelVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].queryset = (
            ScoredDataset.objects.filter(model_version=version)
            .exclude(monitoring_batch__isnull=False)
            .exclude(status=ScoredDataset.Status.REJECTED)
        )


class BatchForm(forms.Form):
    kind = forms.ChoiceField(choices=MonitoringBatch.Kind.choices)
    file = forms.FileField(help_text="CSV (UTF-8) or Parquet.")


class AlertForm(forms.Form):
    reason = forms.CharField(max_length=2000)


def _version_or_404(pk: int) -> ModelVersion:
    return get_or_404(
        lambda pk: ModelVersion.objects.select_related("model__use_case").get(pk=pk), pk=pk
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for e in errors:
                form.add_error(target, " ".join(e.messages))
    else:
        form.add_error(None, " ".join(exc.messages))


def _config_initial(config) -> dict:
    if config is None:
        return {}
    return {
        "reference": config.reference_id,
        "numeric_features": ", ".join(config.numeric_features),
        "categorical_features": ", ".join(config.categorical_features),
        "timestamp_column": config.timestamp_column,
        "prediction_column": config.prediction_column,
        "score_column": config.score_column,
        "outcome_column": config.outcome_column,
        "id_column": config.id_column,
        "sensitive_columns": ", ".join(config.sensitive_columns),
        "performance_max_drop": config.thresholds.get(
            "performance_max_drop", svc.DEFAULT_PERFORMANCE_MAX_DROP
        ),
    }


def _page(
    request, version, *, config_form=None, batch_form=None, status=200, refusal=None
) -> HttpResponse:
    user = request.user
    config = sel.monitoring_config_for_version(version)
    context = {
        "version": version,
        "use_case": version.model.use_case,
        "config": config,
        "can_configure": svc.can_configure(user, version),
        "config_form": config_form or ConfigForm(version=version, initial=_config_initial(config)),
        "batch_form": batch_form or BatchForm(),
        "max_bytes": max_upload_bytes(),
        "policy": svc.monitoring_policy(version),
        "refusal": refusal,
    }
    if config is not None:
        context.update(_monitoring_context(request, config))
    return render(request, "monitoring/version.html", context, status=status)


def _monitoring_context(request, config) -> dict:
    windows = list(sel.window_list(config=config))
    metric = "pvalue" if request.GET.get("metric") == "pvalue" else "psi"
    heat = sel.heatmap_data(config, windows, metric=metric)
    feature, features = _chosen_feature(request, config)
    chosen = _chosen_window(request, windows, feature)
    dist = sel.distribution_data(config, chosen, feature) if chosen else None
    perf = sel.performance_data(config, windows)
    can_handle = svc.can_handle_alert(request.user, config)
    batches = list(sel.batch_list(config=config)[:50])
    validating = ScoredDataset.Status.VALIDATING
    return {
        "windows": windows,
        "windows_failed": [w for w in windows if w.status == "failed"],
        "metric": metric,
        "feature": feature,
        "features": features,
        "chosen": chosen,
        "chosen_rows": sel.window_feature_rows(chosen) if chosen else [],
        "chosen_performance": _performance_rows(chosen) if chosen else [],
        "heatmap": _heatmap_chart(config, heat, metric) if windows else None,
        "distribution": _distribution_chart(dist, feature, chosen) if dist else None,
        "performance": _performance_chart(perf) if perf["has_values"] else None,
        "perf": perf,
        "batches": batches,
        "batches_validating": any(b.dataset.status == validating for b in batches),
        "alerts": sel.alert_list(config=config),
        "can_handle": can_handle,
        "can_recompute": can_handle or svc.can_configure(request.user, config.model_version),
        "profile": sel.reference_profile_for(config),
    }


def _chosen_feature(request, config) -> tuple[str, list[str]]:
    """(the feature asked for, or the first; every feature and the prediction column)."""
    features = [*config.features]
    if config.drift_prediction_column:
        features.append(config.drift_prediction_column)
    feature = request.GET.get("feature") or (features[0] if features else "")
    if feature not in features:
        feature = features[0] if features else ""
    return feature, features


def _chosen_window(request, windows: list, feature: str):
    """The window asked for; otherwise the latest where the feature drifted, or the
    latest with rows (None without one)."""
    chosen_id = int_or_none(request.GET.get("window"))
    with_rows = [w for w in windows if w.rows]
    chosen = next((w for w in windows if w.pk == chosen_id), None)
    if chosen is None:
        drifted = [w for w in with_rows if feature in (w.drifted or [])]
        chosen = (drifted or with_rows or [None])[-1]
    return chosen


def _heatmap_chart(config, heat: dict, metric: str) -> dict:
    return chart_figure(
        charts.drift_heatmap(
            heat["windows"],
            heat["features"],
            heat["values"],
            metric=metric,
            threshold=config.thresholds.get("psi_max"),
            drifted=heat["drifted"],
        )
    )


def _distribution_chart(dist: dict, feature: str, chosen) -> dict:
    return chart_figure(
        charts.distribution(
            dist["labels"],
            dist["reference"],
            dist["current"],
            feature=feature,
            window=f"{chosen.start:%Y-%m-%d}",
        )
    )


def _performance_chart(perf: dict) -> dict:
    return chart_figure(
        charts.performance_over_time(
            perf["windows"],
            {m: v for m, v in perf["series"].items() if any(x is not None for x in v)},
            floors=perf["floors"],
            reference=perf["reference"],
        )
    )


@role_required
def monitoring_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A version's monitoring: configuration, data, charts and alerts."""
    return _page(request, _version_or_404(pk))


@role_required
def monitoring_profile_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    """The version's reference profile state as JSON: the monitoring page polls it while
    a worker builds the profile. Gated as the page is; no configuration is a 404."""
    config = get_or_404(
        lambda pk: sel.monitoring_config_list(user=request.user).get(model_version_id=pk), pk=pk
    )
    response = JsonResponse(sel.reference_profile_state(sel.reference_profile_for(config)))
    response["Cache-Control"] = "no-store"
    return response


@role_required
@require_POST
def monitoring_configure_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(pk)
    if not svc.can_configure(request.user, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads configure monitoring."
        )
    form = ConfigForm(request.POST, version=version)
    if not form.is_valid():
        return _page(request, version, config_form=form, status=400)
    data = form.cleaned_data
    try:
        config, created = svc.monitoring_config_save(
            version=version,
            by=request.user,
            reference=data["reference"],
            numeric_features=data["numeric_features"],
            categorical_features=data["categorical_features"],
            timestamp_column=data["timestamp_column"],
            prediction_column=data["prediction_column"],
            score_column=data["score_column"],
            outcome_column=data["outcome_column"],
            id_column=data["id_column"],
            sensitive_columns=data["sensitive_columns"],
            performance_max_drop=data["performance_max_drop"],
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _page(request, version, config_form=form, status=400)
    saved = "Monitoring configured." if created else "Configuration saved."
    profile = sel.reference_profile_for(config)
    if profile is not None and profile.is_pending:
        saved += " The reference profile is being built by a worker; reload to see it."
    messages.success(request, saved)
    return redirect("monitoring:monitoring", pk=version.pk)


@role_required
@require_POST
def monitoring_batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(pk)
    if not svc.can_configure(request.user, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads send data."
        )
    config = sel.monitoring_config_for_version(version)
    if config is None:
        return refused(
            request,
            partial(_page, request, version),
            "Configure monitoring before sending data.",
            status=409,
        )
    form = BatchForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, version, batch_form=form, status=400)
    try:
        batch, created = svc.monitoring_batch_upload(
            config=config,
            by=request.user,
            file=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _page(request, version, batch_form=form, status=400)
    if created:
        messages.success(
            request,
            f"{batch.get_kind_display()} received: a worker checks every row, then the "
            "windows are computed (the progress is shown below).",
        )
    else:
        messages.info(request, "These exact bytes were already received; nothing new stored.")
    return redirect("monitoring:monitoring", pk=version.pk)


@role_required
@require_POST
def monitoring_recompute_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(pk)
    config = get_or_404(lambda pk: sel.monitoring_config_list().get(model_version_id=pk), pk=pk)
    svc.monitoring_recompute_request(config=config, by=request.user)
    messages.success(request, "Recomputation queued: the windows update in a moment.")
    return redirect("monitoring:monitoring", pk=version.pk)


def _alert_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    alert = get_or_404(sel.alert_get, pk=pk)
    version_pk = alert.config.model_version_id
    form = AlertForm(request.POST)
    if not svc.can_handle_alert(request.user, alert.config):
        raise PermissionDenied(
            "Only the monitoring Accountable, risk officers and governance leads handle alerts."
        )
    page = partial(_page, request, alert.config.model_version)
    if not form.is_valid():
        return refused(request, page, "Give a reason.", status=400)
    try:
        action(alert=alert, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return refused(request, page, exc)
    messages.success(request, "Alert updated.")
    return redirect(reverse("monitoring:monitoring", args=[version_pk]) + f"#alert-{alert.pk}")


@role_required
@require_POST
def alert_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_action(request, pk, svc.drift_alert_acknowledge)


@role_required
@require_POST
def alert_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_action(request, pk, svc.drift_alert_resolve)


def _performance_rows(window) -> list[dict]:
    """The window's performance overall and per group of each sensitive attribute."""
    perf = (window.results or {}).get("performance") or {}
    rows = []
    if perf.get("overall"):
        rows.append({"attribute": "", "group": "All rows", **perf["overall"]})
    for attribute, groups in (perf.get("groups") or {}).items():
        for label, metrics in groups.items():
            rows.append({"attribute": attribute, "group": label, **metrics})
    return rows
