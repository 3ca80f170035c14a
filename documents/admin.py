"""Evidence packs in the admin: read-only. Packs are asked for on the pages or the API
(checked and audited) and built by a worker."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from documents.models import EvidencePack


@admin.register(EvidencePack)
class EvidencePackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "scope", "use_case", "model_version", "status", "requested_by"]
    list_filter = ["status", "scope"]
    readonly_fields = [f.name for f in EvidencePack._meta.fields]
