"""The governance leads' admin of Step 8: key risk indicators are edited here (checked
by the model's ``clean``: an unknown indicator or levels in the wrong order are
refused; a KRI is deactivated, never deleted); snapshots, reviews and proposals are
read-only (pages write them)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from oversight.models import (
    FrameworkReview,
    GovernanceSnapshot,
    KeyRiskIndicator,
    PolicyChangeProposal,
)


@admin.register(KeyRiskIndicator)
class KeyRiskIndicatorAdmin(admin.ModelAdmin):
    list_display = ("indicator", "name", "comparison", "warning_level", "breach_level", "active")
    list_filter = ("active", "comparison")
    search_fields = ("indicator", "name")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Breach e-mails refer to the KRI: it is deactivated, never deleted.
        return False


@admin.register(GovernanceSnapshot)
class GovernanceSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "taken_at")
    list_filter = ("day",)
    search_fields = ("day",)
    date_hierarchy = "day"


@admin.register(FrameworkReview)
class FrameworkReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "created_by", "signed_by", "signed_at")
    list_filter = ("status",)
    search_fields = ("conclusion",)
    list_select_related = ("created_by", "signed_by")


@admin.register(PolicyChangeProposal)
class PolicyChangeProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "review", "tier", "consideration", "proposed_level", "policy_draft")
    list_filter = ("tier", "proposed_level")
    search_fields = ("rationale",)
    list_select_related = ("review", "consideration", "policy_draft")
