"""Pages of Step 4: the published policy matrix (heatmap + accessible table), version
history, a version's page (where governance leads edit a draft's cells and propose it
for publication with a note; a second lead approves it on the proposal's page) and
the diff of two versions.

Every page needs a governance role; only governance leads change anything (checked
here and again in the services). A refused change is answered on the page with the
reason (``accounts.web.refused``): 400, 403, or 409 for a published version.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import is_governance_lead
from accounts.roles import Role
from accounts.web import (
    add_service_errors,
    chart_figure,
    get_or_404,
    int_or_none,
    refusal_status,
    refused,
    role_required,
)
from core import engagement_rules, finding_rules, policy_rules
from core.charts import governance as charts
from governance.models import PolicyFindingRule, PolicyVersion
from governance.selectors import (
    consideration_choices,
    policy_default,
    policy_draft,
    policy_engagement_row,
    policy_finding_rule_rows,
    policy_published_latest,
    policy_version_cells,
    policy_version_diff,
    policy_version_get,
    policy_version_list,
    policy_version_matrix,
)
from governance.services import (
    policy_cells_set,
    policy_draft_create,
    policy_draft_discard,
    policy_engagement_set,
    policy_finding_rules_set,
    policy_publish_propose,
)
from governance.services.framework_changes import framework_change_pending_for, policy_target
from inventory.choices import RiskTier

NO_MEASURE = ""


def _cell_field(tier: int, code: str) -> str:
    return f"cell_{tier}_{code}"


class PolicyCellsForm(forms.Form):
    """One select per (tier, consideration) cell of a draft, named ``cell_<tier>_<code>``.
    An empty choice is allowed here so the service can say which cell names no measure."""

    def __init__(self, *args, considerations: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = []
        choices = [(NO_MEASURE, "— no measure —"), *policy_rules.LEVEL_LABELS.items()]
        for code, name in considerations:
            for tier, tier_label in RiskTier.choices:
                self.fields[_cell_field(tier, code)] = forms.ChoiceField(
                    label=f"{tier_label} × {name}", choices=choices, required=False
                )
                self.keys.append((tier, code))

    def cells(self) -> dict[tuple[int, str], str]:
        return {(t, c): self.cleaned_data.get(_cell_field(t, c), "") for t, c in self.keys}


class EngagementForm(forms.Form):
    """What a draft says about attestations and training (issue 16, Step 7)."""

    attestation_roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Roles that acknowledge a publication",
    )
    attestation_days = forms.IntegerField(
        min_value=1, max_value=engagement_rules.MAX_DAYS, label="Days to acknowledge"
    )
    training_grace_days = forms.IntegerField(
        min_value=1, max_value=engagement_rules.MAX_DAYS, label="Days to complete new training"
    )
    lapsed_may_sign = forms.BooleanField(
        required=False, label="A person whose attestation or training lapsed may still sign"
    )


class FindingRulesForm(forms.Form):
    """Per severity: days to remediate, the lowest accepting authority, the longest
    acceptance and the moves an unresolved finding blocks (``<field>_<severity>``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for severity in finding_rules.SEVERITIES:
            self.fields[f"remediation_days_{severity}"] = forms.IntegerField(
                label=f"{severity.capitalize()}: days to remediate", min_value=1
            )
            self.fields[f"acceptance_authority_{severity}"] = forms.ChoiceField(
                label=f"{severity.capitalize()}: accepted by",
                choices=PolicyFindingRule.Authority.choices,
            )
            self.fields[f"acceptance_max_days_{severity}"] = forms.IntegerField(
                label=f"{severity.capitalize()}: longest acceptance (days)", min_value=1
            )
            self.fields[f"blocks_{severity}"] = forms.MultipleChoiceField(
                label=f"{severity.capitalize()}: blocks the moves into",
                choices=[(m, m) for m in finding_rules.MOVES],
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    @staticmethod
    def initial_from(rows: dict) -> dict:
        return {
            f"{field}_{severity}": row[field]
            for severity, row in rows.items()
            for field in (
                "remediation_days",
                "acceptance_authority",
                "acceptance_max_days",
                "blocks",
            )
        }

    def rows(self) -> dict:
        data = self.cleaned_data
        return {
            s: {
                "remediation_days": data[f"remediation_days_{s}"],
                "acceptance_authority": data[f"acceptance_authority_{s}"],
                "acceptance_max_days": data[f"acceptance_max_days_{s}"],
                "blocks": list(data[f"blocks_{s}"]),
            }
            for s in finding_rules.SEVERITIES
        }

    def by_severity(self) -> list[tuple[str, list]]:
        return [
            (
                s,
                [
                    self[f"{f}_{s}"]
                    for f in (
                        "remediation_days",
                        "acceptance_authority",
                        "acceptance_max_days",
                        "blocks",
                    )
                ],
            )
            for s in finding_rules.SEVERITIES
        ]


class PolicyPublishForm(forms.Form):
    note = forms.CharField(
        label="Change note",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What changed and why; kept with the published version.",
    )


def _version_or_404(pk: int) -> PolicyVersion:
    return get_or_404(policy_version_get, pk=pk)


def _require_lead(request: HttpRequest) -> None:
    if not is_governance_lead(request.user):
        raise PermissionDenied("Only governance leads can change policies.")


@role_required
def policy_overview(request: HttpRequest) -> HttpResponse:
    return _overview_page(request)


def _overview_page(request: HttpRequest, *, refusal: str | None = None) -> HttpResponse:
    policy = policy_default()
    published = policy_published_latest(policy=policy) if policy else None
    considerations = consideration_choices()
    heatmap = None
    if published is not None:
        heatmap = chart_figure(
            charts.policy_matrix_heatmap(
                policy_version_cells(published),
                considerations=considerations,
                tiers=RiskTier.choices,
            )
        )
    return render(
        request,
        "governance/policy_detail.html",
        {
            "policy": policy,
            "version": published,
            "rows": policy_version_matrix(published) if published else [],
            "finding_rules": policy_finding_rule_rows(published) if published else {},
            "tiers": RiskTier.choices,
            "heatmap": heatmap,
            "versions": policy_version_list(policy=policy) if policy else [],
            "draft": policy_draft(policy=policy) if policy else None,
            "is_lead": is_governance_lead(request.user),
            "is_overview": True,
            "refusal": refusal,
        },
    )


@role_required
@require_POST
def policy_draft_new(request: HttpRequest) -> HttpResponse:
    _require_lead(request)
    policy = policy_default()
    try:
        draft = policy_draft_create(policy=policy, by=request.user)
    except ValidationError as exc:
        return refused(request, partial(_overview_page, request), exc)
    messages.success(request, "Draft created from the latest published version.")
    return redirect("governance:policy-version", pk=draft.pk)


@role_required
def policy_version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(pk)
    considerations = consideration_choices()
    is_lead = is_governance_lead(request.user)
    pending = framework_change_pending_for(target_key=policy_target(version))
    editable = version.is_draft and is_lead and pending is None
    cells_form = publish_form = None
    status = 200
    if request.method == "POST":
        _require_lead(request)
        if not version.is_draft:
            # A published version's cells are frozen: a 409 with the reason, nothing saved.
            return refused(
                request,
                partial(_render_version, request, version, None, None, is_lead),
                f"Version {version.label} is published and cannot be changed.",
                status=409,
            )
        cells_form = PolicyCellsForm(request.POST, considerations=considerations)
        status = 400
        if cells_form.is_valid():
            try:
                policy_cells_set(version=version, cells=cells_form.cells(), by=request.user)
            except ValidationError as exc:
                add_service_errors(cells_form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, "Draft saved.")
                return redirect("governance:policy-version", pk=version.pk)
    if pending is not None:
        messages.info(
            request,
            f"This draft is proposed for publication (proposal #{pending.pk}) and cannot be "
            "edited until the proposal is withdrawn or decided.",
        )
    if editable:
        if cells_form is None:
            initial = {
                _cell_field(t, c): level for (t, c), level in policy_version_cells(version).items()
            }
            cells_form = PolicyCellsForm(initial=initial, considerations=considerations)
        publish_form = PolicyPublishForm()
    response = _render_version(request, version, cells_form, publish_form, is_lead)
    response.status_code = status
    return response


def _render_version(
    request,
    version,
    cells_form,
    publish_form,
    is_lead,
    *,
    refusal=None,
    refusal_for="",
    rules_form=None,
    engagement_form=None,
) -> HttpResponse:
    considerations = consideration_choices()
    rows = policy_version_matrix(version)
    if cells_form is not None:
        for row in rows:
            for cell in row["cells"]:
                cell["field"] = cells_form[_cell_field(cell["tier"], row["consideration"].code)]
    return render(
        request,
        "governance/policy_detail.html",
        {
            "policy": version.policy,
            "version": version,
            "rows": rows,
            "tiers": RiskTier.choices,
            "heatmap": chart_figure(
                charts.policy_matrix_heatmap(
                    policy_version_cells(version),
                    considerations=considerations,
                    tiers=RiskTier.choices,
                )
            ),
            "versions": policy_version_list(policy=version.policy),
            "draft": policy_draft(policy=version.policy),
            "cells_form": cells_form,
            "finding_rules": policy_finding_rule_rows(version),
            "rules_form": rules_form
            if rules_form is not None
            else (
                FindingRulesForm(
                    initial=FindingRulesForm.initial_from(policy_finding_rule_rows(version))
                )
                if cells_form is not None
                else None
            ),
            "engagement": policy_engagement_row(version),
            "engagement_form": engagement_form
            if engagement_form is not None
            else (
                EngagementForm(initial=policy_engagement_row(version))
                if cells_form is not None
                else None
            ),
            "publish_form": publish_form,
            "is_lead": is_lead,
            "is_overview": False,
            "refusal": refusal,
            "refusal_for": refusal_for,
        },
    )


@role_required
@require_POST
def policy_version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    _require_lead(request)
    version = _version_or_404(pk)
    form = PolicyPublishForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            change = policy_publish_propose(
                version=version, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = refusal_status(exc)
        else:
            messages.success(
                request,
                f"Proposed for publication (proposal #{change.pk}); it is published when "
                "another governance lead signs the approval.",
            )
            return redirect("governance:framework-change", pk=change.pk)
    response = _render_version(request, version, None, form, True)
    response.status_code = status
    return response


@role_required
@require_POST
def policy_version_discard(request: HttpRequest, pk: int) -> HttpResponse:
    _require_lead(request)
    version = _version_or_404(pk)
    try:
        policy_draft_discard(version=version, by=request.user)
    except ValidationError as exc:
        page = partial(_render_version, request, version, None, None, True, refusal_for="discard")
        return refused(request, page, exc)
    messages.success(request, "Draft discarded.")
    return redirect("governance:policy")


@role_required
def policy_diff(request: HttpRequest) -> HttpResponse:
    policy = policy_default()
    versions = list(policy_version_list(policy=policy)) if policy else []
    by_pk = {v.pk: v for v in versions}
    published = [v for v in versions if not v.is_draft]
    old = by_pk.get(int_or_none(request.GET.get("from")))
    new = by_pk.get(int_or_none(request.GET.get("to")))
    error = None
    if ("from" in request.GET or "to" in request.GET) and (old is None or new is None):
        error = "Choose two versions of this policy to compare."
    if old is None and new is None and not error:
        # Default: the draft (or latest published) against the version before it.
        new = versions[0] if versions else None
        old = (
            new.based_on if new and new.is_draft else (published[1] if len(published) > 1 else None)
        )
        old = by_pk.get(old.pk) if old else None
    changes = policy_version_diff(old=old, new=new) if old and new else []
    return render(
        request,
        "governance/policy_diff.html",
        {
            "policy": policy,
            "versions": versions,
            "old": old,
            "new": new,
            "changes": changes,
            "error": error,
            "diff_url": reverse("governance:policy-diff"),
        },
        status=400 if error else 200,
    )


def _save_draft_form(request, pk: int, *, form, form_key: str, refusal_for: str, save, done: str):
    """A form of a draft's settings (finding rules, attestation and training): saved by
    ``save(version, cleaned_data)`` (governance leads), or the page again with the
    form's errors or the service's refusal beside it (400/403/409), nothing saved."""
    _require_lead(request)
    version = _version_or_404(pk)
    considerations = consideration_choices()

    def page(*, refusal=None, status=400):
        cells_form = None
        if version.is_draft:
            initial = {
                _cell_field(t, c): level for (t, c), level in policy_version_cells(version).items()
            }
            cells_form = PolicyCellsForm(initial=initial, considerations=considerations)
        response = _render_version(
            request,
            version,
            cells_form,
            None,
            True,
            refusal=refusal,
            refusal_for=refusal_for,
            **{form_key: form},
        )
        response.status_code = status
        return response

    if not form.is_valid():
        return page()
    try:
        save(version, form)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return refused(request, page, exc)
    messages.success(request, done)
    return redirect("governance:policy-version", pk=version.pk)


@role_required
@require_POST
def policy_finding_rules_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a draft's finding rules (governance leads)."""
    return _save_draft_form(
        request,
        pk,
        form=FindingRulesForm(request.POST),
        form_key="rules_form",
        refusal_for="finding-rules",
        save=lambda version, form: policy_finding_rules_set(
            version=version, rules=form.rows(), by=request.user
        ),
        done="The draft's finding rules are saved.",
    )


@role_required
@require_POST
def policy_engagement_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a draft's attestation and training settings (governance leads)."""
    return _save_draft_form(
        request,
        pk,
        form=EngagementForm(request.POST),
        form_key="engagement_form",
        refusal_for="engagement",
        save=lambda version, form: policy_engagement_set(
            version=version, by=request.user, **form.cleaned_data
        ),
        done="The draft's attestation and training settings are saved.",
    )
