"""Admin of Step 4: considerations and their measures (texts and parameters, validated
against ``policy_rules.PARAMETER_SCHEMAS``), the regulations' requirements, and policies.

Considerations, measures and requirements are framework content: an edit here is a
four-eyes proposal (``governance.admin.proposals``) that a second lead approves.

Policy versions are decision records: shown here read-only. Drafts are edited and
published on the policy pages (``/policy/``), through the services.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from governance.admin.proposals import ProposedChangeAdmin
from governance.models import (
    Consideration,
    Measure,
    Policy,
    PolicyCell,
    PolicyVersion,
    Requirement,
    RequirementMinimum,
)


class MeasureInline(admin.TabularInline):
    model = Measure
    extra = 0
    fields = ["level", "text", "parameters"]


@admin.register(Consideration)
class ConsiderationAdmin(ProposedChangeAdmin):
    list_display = ["name", "code", "order"]
    list_filter = ["measures__level"]
    search_fields = ["code", "name", "description"]
    ordering = ["order", "id"]
    inlines = [MeasureInline]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []  # policies, parameters and evidence refer to it


@admin.register(Measure)
class MeasureAdmin(ProposedChangeAdmin):
    list_display = ["consideration", "level", "text"]
    list_filter = ["level", "consideration"]
    search_fields = ["text", "consideration__name"]
    list_select_related = ["consideration"]


class RequirementMinimumInline(admin.TabularInline):
    model = RequirementMinimum
    extra = 1
    fields = ["consideration", "min_level"]


@admin.register(Requirement)
class RequirementAdmin(ProposedChangeAdmin):
    list_display = ["code", "regulation", "text", "order"]
    list_filter = ["regulation"]
    search_fields = ["code", "text", "regulation__name"]
    list_select_related = ["regulation"]
    inlines = [RequirementMinimumInline]


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    extra = 0
    fields = ["label", "status", "published_at", "published_by", "change_note"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "pages"]
    search_fields = ["code", "name"]
    inlines = [PolicyVersionInline]

    @admin.display(description="Edit")
    def pages(self, obj: Policy) -> str:
        return format_html('<a href="{}">Policy pages</a>', reverse("governance:policy"))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PolicyCellInline(admin.TabularInline):
    model = PolicyCell
    extra = 0
    fields = ["tier", "consideration", "level"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Read-only: drafts are edited and published on the policy pages."""

    list_display = ["__str__", "status", "number", "published_at", "published_by", "created_by"]
    list_filter = ["status", "policy"]
    search_fields = ["change_note", "policy__name"]
    list_select_related = ["policy", "published_by", "created_by"]
    inlines = [PolicyCellInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
