"""Admin of the model inventory for governance leads.

Writes that carry rules go through ``inventory.services``, as the pages and the API do
(``ServiceModelAdmin``): a use case's regulations or PII flag re-classify it, a model
version's artifact never changes once registered, dataset columns are validated with
their dataset. Teams have no rules beyond their fields and are saved directly.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_site import ServiceModelAdmin, inline_rows
from inventory import services
from inventory.choices import RiskTier
from inventory.models import (
    ArtifactLink,
    Dataset,
    DatasetColumn,
    MLModel,
    ModelVersion,
    Team,
    UseCase,
)
from inventory.services import USE_CASE_FIELDS


def _admin_link(obj, label=None) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


def _links(objects) -> str:
    return format_html_join(", ", "{}", ((_admin_link(o),) for o in objects)) or "—"


# --- Teams ---------------------------------------------------------------------------


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "use_case_count"]
    list_filter = [("members", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "members__username"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                use_case_count=Count("use_cases", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj) -> int:
        return obj.member_count

    @admin.display(description="use cases", ordering="use_case_count")
    def use_case_count(self, obj) -> int:
        return obj.use_case_count


# --- Use cases -----------------------------------------------------------------------


@admin.register(UseCase)
class UseCaseAdmin(ServiceModelAdmin):
    list_display = [
        "name",
        "team",
        "status",
        "criticality",
        "risk_tier",
        "business_owner",
        "technical_owner",
        "uses_pii",
        "updated_at",
    ]
    list_filter = ["risk_tier", "criticality", "status", "team", "regulations", "uses_pii"]
    search_fields = [
        "name",
        "purpose",
        "team__name",
        "business_owner__username",
        "technical_owner__username",
    ]
    list_select_related = ["team", "business_owner", "technical_owner"]
    ordering = ["name"]
    filter_horizontal = ["regulations", "datasets"]
    readonly_fields = [
        "criticality",
        "risk_tier",
        "classification_history",
        "models",
        "dashboard_page",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "team", "status", "purpose", "restrictions"]}),
        ("Owners", {"fields": ["business_owner", "technical_owner"]}),
        (
            "Regulations and data",
            {
                "fields": ["regulations", "uses_pii", "datasets"],
                "description": "Changing the regulations or the PII flag of a classified use "
                "case re-classifies it at once.",
            },
        ),
        (
            "Classification",
            {
                "fields": [
                    ("criticality", "risk_tier"),
                    "classification_history",
                    "models",
                    "dashboard_page",
                ],
                "description": "Set by the Step 1 questionnaire on the dashboard; every "
                "classification is kept.",
            },
        ),
        ("Record", {"fields": [("created_by", "created_at", "updated_at")]}),
    ]

    @admin.display(description="classifications")
    def classification_history(self, obj) -> str:
        if obj.pk is None:
            return "—"
        count = obj.classifications.count()
        if not count:
            return "Not classified yet."
        url = reverse("admin:governance_classification_changelist")
        return format_html(
            '<a href="{}?use_case__id__exact={}">{} classification(s)</a>', url, obj.pk, count
        )

    @admin.display(description="models")
    def models(self, obj) -> str:
        return _links(obj.ml_models.all()) if obj.pk else "—"

    @admin.display(description="dashboard")
    def dashboard_page(self, obj) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("dashboard:use-case-detail", args=[obj.pk])
        return format_html('<a href="{}">Use-case page and questionnaire</a>', url)

    def service_save(self, request, form, formsets, change: bool):
        data = form.cleaned_data
        kwargs = {name: data[name] for name in USE_CASE_FIELDS if name in data}
        kwargs["regulations"] = list(data.get("regulations", []))
        kwargs["datasets"] = list(data.get("datasets", []))
        if not change:
            return services.use_case_create(by=request.user, **kwargs)
        before = UseCase.objects.values_list("criticality", "risk_tier").get(pk=form.instance.pk)
        use_case = services.use_case_update(use_case=form.instance, by=request.user, **kwargs)
        after = (use_case.criticality, use_case.risk_tier)
        if after != before and after[1] is not None:
            messages.info(
                request,
                f"“{use_case}” was re-classified: level {after[0]}, "
                f"{RiskTier(after[1]).label} tier (was level {before[0]}, "
                f"{RiskTier(before[1]).label if before[1] else 'unclassified'}).",
            )
        return use_case


# --- Models and versions -------------------------------------------------------------


@admin.register(MLModel)
class MLModelAdmin(ServiceModelAdmin):
    list_display = ["name", "use_case", "team", "version_count", "created_by", "created_at"]
    list_filter = ["use_case__team", "use_case__risk_tier", "use_case__status"]
    search_fields = ["name", "description", "use_case__name"]
    list_select_related = ["use_case__team", "created_by"]
    ordering = ["use_case__name", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["use_case", "name", "description"]
        return ["use_case", "name", "description", "versions", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Name and use case are fixed once created (ml_model_update changes the description).
        return ["use_case", "name", "versions", "created_by", "created_at"] if obj else []

    @admin.display(description="team", ordering="use_case__team__name")
    def team(self, obj) -> str:
        return obj.use_case.team

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj) -> int:
        return obj.version_count

    @admin.display(description="versions")
    def versions(self, obj) -> str:
        return _links(obj.versions.all())

    def service_save(self, request, form, formsets, change: bool):
        data = form.cleaned_data
        if change:
            return services.ml_model_update(
                ml_model=form.instance, by=request.user, description=data["description"]
            )
        return services.ml_model_create(
            by=request.user,
            use_case=data["use_case"],
            name=data["name"],
            description=data.get("description", ""),
        )


VERSION_ARTIFACT_FIELDS = [
    "model",
    "version_label",
    "artifact_uri",
    "artifact_sha256",
    "framework",
    "training_dataset",
    "training_data_ref",
]


class ModelVersionAdminForm(forms.ModelForm):
    def clean_artifact_sha256(self) -> str:
        # Normalised as the service does, before the model's lower-case check.
        return (self.cleaned_data.get("artifact_sha256") or "").strip().lower()


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceModelAdmin):
    """Versions are registered through ``model_version_register``; afterwards only their
    metrics can be added to (``model_version_update_metrics``). An artifact, once
    registered, never changes and is never deleted."""

    list_display = [
        "version_label",
        "model",
        "use_case",
        "environment",
        "framework",
        "short_sha256",
        "registered_by",
        "registered_at",
    ]
    list_display_links = ["version_label"]
    list_filter = ["environment", "model__use_case__team", "model__use_case__risk_tier"]
    search_fields = [
        "version_label",
        "artifact_sha256",
        "artifact_uri",
        "model__name",
        "model__use_case__name",
    ]
    list_select_related = ["model__use_case", "registered_by"]
    ordering = ["-registered_at", "-id"]
    date_hierarchy = "registered_at"
    filter_horizontal = ["authors"]
    form = ModelVersionAdminForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*VERSION_ARTIFACT_FIELDS, "metrics", "authors"]
        return [
            *VERSION_ARTIFACT_FIELDS,
            "metrics",
            "author_list",
            "environment",
            "registered_by",
            "registered_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            *VERSION_ARTIFACT_FIELDS,
            "author_list",
            "environment",
            "registered_by",
            "registered_at",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "metrics" in form.base_fields:
            form.base_fields["metrics"].help_text = 'Names and numbers, e.g. {"auc": 0.81}.' + (
                " Metrics are added or updated, never removed." if obj else ""
            )
        return form

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="use case", ordering="model__use_case__name")
    def use_case(self, obj) -> str:
        return obj.model.use_case

    @admin.display(description="SHA-256")
    def short_sha256(self, obj) -> str:
        return f"{obj.artifact_sha256[:12]}…"

    @admin.display(description="authors")
    def author_list(self, obj) -> str:
        return ", ".join(a.get_full_name() or a.get_username() for a in obj.authors.all())

    def service_save(self, request, form, formsets, change: bool):
        data = form.cleaned_data
        metrics = data.get("metrics") or {}
        if change:
            return services.model_version_update_metrics(
                version=ModelVersion.objects.select_related("model__use_case__team").get(
                    pk=form.instance.pk
                ),
                by=request.user,
                metrics=metrics,
            )
        version, _ = services.model_version_register(
            by=request.user,
            model=data["model"],
            version_label=data["version_label"],
            artifact_uri=data["artifact_uri"],
            artifact_sha256=data["artifact_sha256"],
            framework=data["framework"],
            training_dataset=data.get("training_dataset"),
            training_data_ref=data.get("training_data_ref", ""),
            metrics=metrics,
            authors=list(data.get("authors") or []),
        )
        return version


# --- Datasets ------------------------------------------------------------------------

COLUMN_FIELDS = ["name", "data_type", "is_pii", "lineage_notes"]


class DatasetColumnInline(admin.TabularInline):
    model = DatasetColumn
    fields = COLUMN_FIELDS
    extra = 1


@admin.register(Dataset)
class DatasetAdmin(ServiceModelAdmin):
    """Datasets and their columns are saved together through ``dataset_create`` /
    ``dataset_update`` (the column list is replaced as a whole)."""

    list_display = ["name", "team", "owner", "source", "column_count", "pii_column_count"]
    list_filter = ["team", ("owner", admin.RelatedOnlyFieldListFilter), "columns__is_pii"]
    search_fields = ["name", "description", "source", "provenance", "columns__name"]
    list_select_related = ["team", "owner"]
    ordering = ["name"]
    fields = ["name", "team", "owner", "description", "source", "provenance", "used_by"]
    readonly_fields = ["used_by"]
    inlines = [DatasetColumnInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                column_count=Count("columns", distinct=True),
                pii_column_count=Count("columns", filter=Q(columns__is_pii=True), distinct=True),
            )
        )

    @admin.display(description="columns", ordering="column_count")
    def column_count(self, obj) -> int:
        return obj.column_count

    @admin.display(description="PII columns", ordering="pii_column_count")
    def pii_column_count(self, obj) -> int:
        return obj.pii_column_count

    @admin.display(description="used by")
    def used_by(self, obj) -> str:
        return _links(obj.use_cases.all()) if obj.pk else "—"

    def service_save(self, request, form, formsets, change: bool):
        data = form.cleaned_data
        fields = {
            name: data[name]
            for name in ["name", "team", "owner", "description", "source", "provenance"]
            if name in data
        }
        columns = [row for formset in formsets for row in inline_rows(formset, COLUMN_FIELDS)]
        if change:
            return services.dataset_update(
                dataset=form.instance, by=request.user, columns=columns, **fields
            )
        return services.dataset_create(by=request.user, columns=columns, **fields)


# --- Artifact links (issue 12, item 7) ---------------------------------------------------


@admin.register(ArtifactLink)
class ArtifactLinkAdmin(ServiceModelAdmin):
    """A governance lead lets a model register an artifact another model already
    carries (``artifact_link_create``). Links are records: never changed or deleted."""

    list_display = ["short_sha256", "model", "linked_by", "linked_at", "reason"]
    list_filter = ["model__use_case__team"]
    search_fields = ["artifact_sha256", "model__name", "reason"]
    list_select_related = ["model", "linked_by"]
    fields = ["artifact_sha256", "model", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["artifact_sha256", "model", "reason"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="SHA-256")
    def short_sha256(self, obj) -> str:
        return f"{obj.artifact_sha256[:12]}…"

    def service_save(self, request, form, formsets, change: bool):
        data = form.cleaned_data
        return services.artifact_link_create(
            by=request.user,
            model=data["model"],
            artifact_sha256=data["artifact_sha256"],
            reason=data["reason"],
        )
