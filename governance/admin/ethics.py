"""Admin of Step 2: the ethics questionnaires and their versions, and the (read-only)
answer sets and approvals.

Governance leads prepare a new version here: the "Start a new draft version" action
copies the current version (``ethics_version_draft_create``); the draft's questions and
their options are edited on the question pages; "Propose publishing"
(``ethics_version_publish_propose``) records a four-eyes proposal, and the draft becomes
current when another lead signs its approval. Published versions are read-only (the
models refuse changes too).
Answer sets and approvals are decision records: shown, never added, changed or deleted
here (answer on the Ethics pages or through the API).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_site import ReadOnlyAdminMixin, service_action
from governance.models import (
    EthicsAnswerSet,
    EthicsApproval,
    EthicsQuestion,
    EthicsQuestionOption,
    EthicsTemplate,
    EthicsTemplateVersion,
)
from governance.services import ethics_version_draft_create, ethics_version_publish_propose


def _is_draft(obj) -> bool:
    return obj is not None and obj.status == EthicsTemplateVersion.Status.DRAFT


@admin.register(EthicsTemplate)
class EthicsTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "scope"]
    list_filter = ["scope"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "scope"]
    actions = ["start_draft"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Start a new draft version (a copy of the latest)")
    def start_draft(self, request, queryset):
        return service_action(
            self,
            request,
            queryset,
            lambda template: ethics_version_draft_create(template=template, by=request.user),
            lambda template, draft: f"Created {draft}.",
        )


class EthicsQuestionInline(admin.TabularInline):
    model = EthicsQuestion
    fields = ["order", "code", "text", "kind", "required"]
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (_is_draft(obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (_is_draft(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (_is_draft(obj))


@admin.register(EthicsTemplateVersion)
class EthicsTemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "status", "published_at", "published_by"]
    list_filter = ["template", "status"]
    search_fields = ["note", "template__name"]
    list_select_related = ["template", "published_by"]
    fields = ["template", "number", "status", "note", "created_by", "created_at"]
    readonly_fields = [
        "template",
        "number",
        "status",
        "created_by",
        "created_at",
        "published_by",
        "published_at",
    ]
    inlines = [EthicsQuestionInline]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if _is_draft(obj):
            return self.readonly_fields
        return [*self.readonly_fields, "note"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (_is_draft(obj))

    @admin.action(description="Propose publishing the selected draft(s) (four eyes)")
    def publish(self, request, queryset):
        """Each draft is proposed for publication as it is now, with its note as the
        reason; another governance lead publishes it by signing the proposal. A refusal
        proposes none of them and answers 400 with the reason."""
        return service_action(
            self,
            request,
            queryset,
            lambda version: ethics_version_publish_propose(version=version, by=request.user),
            lambda version, change: format_html(
                '{}: proposed (<a href="{}">#{}</a>); it is published when another '
                "governance lead signs its approval.",
                version,
                reverse("governance:framework-change", args=[change.pk]),
                change.pk,
            ),
        )


class EthicsQuestionOptionInline(admin.TabularInline):
    model = EthicsQuestionOption
    fields = ["order", "code", "label"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (
            obj is not None and _is_draft(obj.version)
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is not None and _is_draft(obj.version)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is not None and _is_draft(obj.version)
        )


@admin.register(EthicsQuestion)
class EthicsQuestionAdmin(admin.ModelAdmin):
    list_display = ["code", "text", "kind", "required", "version"]
    list_filter = ["version__template", "version", "kind"]
    search_fields = ["code", "text"]
    list_select_related = ["version__template"]
    inlines = [EthicsQuestionOptionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or _is_draft(obj.version)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is not None and _is_draft(obj.version)
        )


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(EthicsAnswerSet)
class EthicsAnswerSetAdmin(_ReadOnly):
    list_display = ["__str__", "version", "answered_by", "answered_at"]
    list_filter = ["version__template", "version"]
    search_fields = ["use_case__name", "note", "answered_by__username"]
    list_select_related = ["use_case", "version__template", "answered_by"]


@admin.register(EthicsApproval)
class EthicsApprovalAdmin(_ReadOnly):
    list_display = ["answer_set", "approved_by", "approved_at"]
    list_filter = ["approved_at"]
    search_fields = ["note", "approved_by__username"]
    list_select_related = ["answer_set", "approved_by"]
