"""Documents in the admin.

- Document templates: governance leads start a draft ("Start a new draft version", a
  copy of the latest, or of the built-in sections), choose, order, retitle and annotate
  its sections, then "Propose publishing" it: a four-eyes change of the framework that
  another lead approves with a password on its page. Published versions are read-only
  (the models refuse changes too).
- Evidence packs, generated documents and report signatures: read-only records (asked
  for on the pages or the API, made by a worker, signed with a password).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_site import ReadOnlyAdminMixin, RefusedFormIs400, service_action
from documents.models import (
    DocumentSignature,
    DocumentTemplate,
    DocumentTemplateSection,
    DocumentTemplateVersion,
    EvidencePack,
    GeneratedDocument,
)
from documents.services.templates import template_draft_create, template_publish_propose


def _is_draft(obj) -> bool:
    return obj is not None and obj.status == DocumentTemplateVersion.Status.DRAFT


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "published"]
    # Documents print the template's name: it changes with four eyes only (a migration).
    readonly_fields = ["kind", "name"]
    actions = ["start_draft"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="published version")
    def published(self, obj) -> str:
        latest = obj.versions.filter(status=DocumentTemplateVersion.Status.PUBLISHED).first()
        return f"v{latest.number}" if latest else "built-in sections"

    @admin.action(description="Start a new draft version (a copy of the latest)")
    def start_draft(self, request, queryset):
        return service_action(
            self,
            request,
            queryset,
            lambda template: template_draft_create(template=template, by=request.user),
            lambda template, draft: f"Created {draft}: edit its sections, then propose it.",
        )


class DocumentTemplateSectionInline(admin.TabularInline):
    model = DocumentTemplateSection
    fields = ["order", "key", "title", "guidance", "included"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _is_draft(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_draft(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_draft(obj)


@admin.register(DocumentTemplateVersion)
class DocumentTemplateVersionAdmin(RefusedFormIs400, admin.ModelAdmin):
    list_display = ["template", "number", "status", "published_at", "published_by"]
    list_filter = ["template", "status"]
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
    inlines = [DocumentTemplateSectionInline]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if _is_draft(obj):
            return self.readonly_fields
        return [*self.readonly_fields, "note"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or _is_draft(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_draft(obj)

    @admin.action(description="Propose publishing the selected draft(s) (four eyes)")
    def publish(self, request, queryset):
        return service_action(
            self,
            request,
            queryset,
            lambda version: template_publish_propose(version=version, by=request.user),
            lambda version, change: format_html(
                '{}: proposed (<a href="{}">#{}</a>); it is published when another '
                "governance lead signs its approval.",
                version,
                reverse("governance:framework-change", args=[change.pk]),
                change.pk,
            ),
        )


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(EvidencePack)
class EvidencePackAdmin(_ReadOnly):
    list_display = ["id", "scope", "use_case", "model_version", "status", "requested_by"]
    list_filter = ["status", "scope"]
    readonly_fields = [f.name for f in EvidencePack._meta.fields]


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(_ReadOnly):
    list_display = ["id", "kind", "model_version", "status", "requested_by", "requested_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["model_version__model", "requested_by"]
    exclude = ["content"]


@admin.register(DocumentSignature)
class DocumentSignatureAdmin(_ReadOnly):
    list_display = ["document", "printed_name", "meaning", "signed_at", "auth_method"]
    list_select_related = ["document__model_version__model"]
