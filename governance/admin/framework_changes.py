"""Admin of four eyes on the framework and of the ethical position applied: proposals,
their signed decisions and ethics deviations are records, shown read-only (proposals
are decided on their pages, ``/framework-changes/``, with a password)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_site import ReadOnlyAdminMixin
from governance.models import EthicsDeviation, FrameworkChange, FrameworkChangeDecision


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(FrameworkChange)
class FrameworkChangeAdmin(_ReadOnly):
    list_display = ["__str__", "kind", "proposed_by", "proposed_at", "status", "page"]
    list_filter = ["kind", "decision__outcome"]
    search_fields = ["reason", "target_key", "proposed_by__username"]
    list_select_related = ["proposed_by", "decision"]

    @admin.display(description="decide")
    def page(self, obj) -> str:
        url = reverse("governance:framework-change", args=[obj.pk])
        return format_html('<a href="{}">Open</a>', url)


@admin.register(FrameworkChangeDecision)
class FrameworkChangeDecisionAdmin(_ReadOnly):
    list_display = ["change", "outcome", "by", "at", "auth_method"]
    list_filter = ["outcome", "auth_method"]
    search_fields = ["reason", "by__username"]
    list_select_related = ["change", "by"]


@admin.register(EthicsDeviation)
class EthicsDeviationAdmin(_ReadOnly):
    list_display = ["use_case", "code", "kind", "owner", "opened_at", "closed_at"]
    list_filter = ["kind", "closed_at"]
    search_fields = ["use_case__name", "message", "code"]
    list_select_related = ["use_case", "owner"]
