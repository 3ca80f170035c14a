"""Attestation campaigns and completions in the admin: read-only records. Training
modules are content as data, edited here by governance leads through the service
(checked, versioned, audited); a module with completions is withdrawn, never deleted."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin, ServiceModelAdmin
from engagement import models
from engagement.services import training_module_save


@admin.register(models.AttestationCampaign)
class AttestationCampaignAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "subject", "started_at", "due_on"]
    list_filter = ["subject"]


@admin.register(models.Attestation)
class AttestationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["campaign", "user", "at"]
    list_filter = ["campaign"]


@admin.register(models.TrainingCompletion)
class TrainingCompletionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["module", "user", "at", "passed", "expires_on"]
    list_filter = ["module", "passed"]


@admin.register(models.TrainingModule)
class TrainingModuleAdmin(ServiceModelAdmin):
    list_display = ["title", "code", "version", "validity_days", "required_from", "active"]
    list_filter = ["active"]
    readonly_fields = ["version", "updated_at"]
    fields = [
        "code",
        "title",
        "summary",
        "roles",
        "validity_days",
        "required_from",
        "active",
        "order",
        "sections",
        "questions",
        "version",
        "updated_at",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, form, formsets, change: bool):
        return training_module_save(
            data=form.cleaned_data, by=request.user, module=form.instance if change else None
        )
