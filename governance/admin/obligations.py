"""Admin of Step 5: obligations and their history, read-only (they are derived by
``obligations_recompute`` and moved forward on the obligation pages, through the
services)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from governance.models import Obligation, ObligationEvent


class ObligationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ObligationEvent
    extra = 0
    fields = ["at", "kind", "by", "reason", "detail"]
    readonly_fields = fields


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "use_case",
        "consideration",
        "level",
        "status",
        "owner",
        "due_date",
        "active",
        "policy_version",
    ]
    list_filter = ["status", "active", "level", "consideration"]
    search_fields = ["use_case__name", "why", "text"]
    list_select_related = ["use_case", "consideration", "owner", "policy_version__policy"]
    inlines = [ObligationEventInline]


@admin.register(ObligationEvent)
class ObligationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["obligation", "kind", "by", "at"]
    list_filter = ["kind"]
    list_select_related = ["obligation__use_case", "obligation__consideration", "by"]
