"""Forms of the experiment pages: a draft's protocol (parsed into the services'
arguments), the signing dialogs, the override's justification and the outcomes upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from experiments.models import Experiment
from inventory.models import ModelVersion, UseCase

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
    assignment = forms.ChoiceField(
        choices=Experiment.Assignment.choices,
        initial=Experiment.Assignment.PRODUCT,
        required=False,
        label="Who assigns the arms",
        help_text="A/B tests: the product's hash, or an outside randomiser (a feature-flag "
        "platform) whose outcome file carries the arm.",
    )
    duration_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Duration (days)",
        help_text="Fixed before the start; empty: whole weeks covering the sample size.",
    )
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
    non_inferiority_margin = forms.FloatField(
        required=False,
        help_text="Optional: a non-inferiority design (one-sided A/B, no interim looks). "
        "The challenger supports promotion when it is not worse by this much or more.",
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
            "assignment": experiment.assignment,
            "duration_days": experiment.duration_days,
            "champion_share": split.get("champion", 50),
            "challenger_share": split.get("challenger", 50),
            "alpha": p.get("alpha"),
            "power": p.get("power"),
            "minimum_effect": p.get("minimum_effect"),
            "alternative": p.get("alternative"),
            "higher_is_better": "true" if p.get("higher_is_better", True) else "false",
            "baseline_proportion": p.get("baseline_proportion"),
            "non_inferiority_margin": p.get("non_inferiority_margin"),
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
            "non_inferiority_margin": d.get("non_inferiority_margin"),
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
            "assignment": d.get("assignment") or Experiment.Assignment.PRODUCT,
            "duration_days": d.get("duration_days"),
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


class OverrideForm(forms.Form):
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why the data-quality problems do not invalidate the test.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password: signing needs it every time.",
    )


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8) with a header row, or Parquet.")
    unit = forms.CharField(max_length=200, required=False, label="Unit column")
    arm = forms.CharField(max_length=200, required=False, label="Arm column")
    outcome = forms.CharField(max_length=200, required=False, label="Outcome column")
    champion_label = forms.CharField(
        max_length=200, required=False, label="Champion's label", help_text="e.g. control"
    )
    challenger_label = forms.CharField(
        max_length=200, required=False, label="Challenger's label", help_text="e.g. treatment"
    )

    def mapping(self) -> dict[str, str]:
        """The column mapping typed (empty: the product's own column names)."""
        names = ("unit", "arm", "outcome", "champion_label", "challenger_label")
        return {k: self.cleaned_data.get(k) or "" for k in names}
