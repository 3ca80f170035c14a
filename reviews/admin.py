"""Sign-off records in the admin: read-only. Requests move, and signatures, waivers
and gate calls are written, only through the workflow (pages and API), where the
rules, re-authentication and the audit trail apply."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from reviews.models import (
    BlockingWaiver,
    Finding,
    FindingAcceptance,
    GateCall,
    PeriodicReview,
    PromotionRequest,
    Signature,
    Validation,
)


class SignatureInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Signature
    fields = ["printed_name", "meaning", "slot", "signed_at", "reason", "manifest_hash"]
    extra = 0


class WaiverInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = BlockingWaiver
    fields = ["code", "reason", "by", "at"]
    extra = 0


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "model_version", "kind", "from_environment", "to_environment", "status"]
    list_filter = ["status", "kind", "to_environment"]
    search_fields = ["model_version__model__name", "model_version__version_label"]
    inlines = [SignatureInline, WaiverInline]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["signed_at", "printed_name", "meaning", "request", "auth_method"]
    list_filter = ["meaning", "auth_method"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "model_version", "source", "title", "status", "opened_at"]
    list_filter = ["status", "source"]


@admin.register(GateCall)
class GateCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "caller", "model_version", "environment", "allowed"]
    list_filter = ["allowed", "environment"]


@admin.register(PeriodicReview)
class PeriodicReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["model_version", "reviewed_by", "reviewed_at", "outcome"]


@admin.register(Validation)
class ValidationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "model_version", "validator", "conclusion", "signed_at"]
    list_filter = ["conclusion"]
    search_fields = ["model_version__model__name", "validator__username"]
    list_select_related = ["model_version__model", "validator"]


@admin.register(FindingAcceptance)
class FindingAcceptanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["finding", "printed_name", "accepted_at", "expires_on"]
    search_fields = ["finding__title", "printed_name"]
    list_select_related = ["finding"]
