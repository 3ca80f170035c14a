"""Admin of Step 3: the task and role catalogues and the organisation's template
matrix (their edits are proposals a second lead approves). Use cases' own matrices and
the people named in them are edited on the RACI pages (through the services) and shown
here read-only."""

from django import forms
from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from governance.admin.proposals import ProposedChangeAdmin
from governance.models import (
    RaciAssignment,
    RaciRole,
    RaciTask,
    RaciTemplateCell,
    UseCaseRaciCell,
)


class TemplateCellFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        accountable = [
            form.cleaned_data["role"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and "A" in (form.cleaned_data.get("letters") or "")
        ]
        if len(accountable) > 1:
            names = " and ".join(str(r) for r in accountable)
            raise forms.ValidationError(f"Only one role can be Accountable (not {names}).")


class TemplateCellInline(admin.TabularInline):
    model = RaciTemplateCell
    formset = TemplateCellFormSet
    extra = 0
    fields = ["role", "letters"]


@admin.register(RaciTask)
class RaciTaskAdmin(ProposedChangeAdmin):
    """The template matrix: an edit is a four-eyes proposal (``governance.admin.proposals``)."""

    list_display = ["name", "code", "order"]
    search_fields = ["code", "name", "description"]
    ordering = ["order", "id"]
    inlines = [TemplateCellInline]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []  # later steps look tasks up by code


@admin.register(RaciRole)
class RaciRoleAdmin(ProposedChangeAdmin):
    """The roles (the matrix's columns): a new role or a renamed one is a four-eyes
    proposal (``governance.admin.proposals``); who may staff an approval role is
    keyed by its code, which never changes."""

    list_display = ["name", "code", "level", "order"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    ordering = ["order", "id"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(UseCaseRaciCell)
class UseCaseRaciCellAdmin(ReadOnlyAdmin):
    list_display = ["use_case", "task", "role", "letters", "updated_by", "updated_at"]
    list_filter = ["task", "role"]
    search_fields = ["use_case__name"]
    list_select_related = ["use_case", "task", "role", "updated_by"]


@admin.register(RaciAssignment)
class RaciAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["use_case", "role", "user", "team", "assigned_by", "assigned_at"]
    list_filter = ["role", "team"]
    search_fields = ["use_case__name", "user__username", "team__name"]
    list_select_related = ["use_case", "role", "user", "team", "assigned_by"]
