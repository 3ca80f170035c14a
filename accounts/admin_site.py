"""The admin site of the governance leads, and the base class of admins that write
through services.

Installed in place of ``django.contrib.admin`` (``INSTALLED_APPS`` names
``GovernanceAdminConfig``), so ``admin.site`` and ``@admin.register`` use
``GovernanceAdminSite``. This module is imported while the app registry loads:
nothing here may import models at module level.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse

SITE_TITLE = "ML model governance — administration"


class GovernanceAdminSite(admin.AdminSite):
    """Only active staff members who are governance leads (or superusers) get in;
    everyone else, data scientists with ``is_staff`` included, is sent to the login page."""

    site_header = SITE_TITLE
    site_title = SITE_TITLE
    index_title = "Policies, questionnaire, rules and the model inventory"

    def has_permission(self, request) -> bool:
        from accounts.permissions import is_governance_lead

        user = request.user
        return bool(user.is_active and user.is_staff and is_governance_lead(user))


class GovernanceAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.GovernanceAdminSite"


class RefusedFormIs400:
    """A ModelAdmin mixin: an add or change form posted and shown again with its errors
    (a refused or invalid save: nothing was written) answers 400, not 200, like every
    other refused page (issue 12: a governance lead granting themselves a role)."""

    def render_change_form(self, request, context, *args, **kwargs):
        response = super().render_change_form(request, context, *args, **kwargs)
        if request.method == "POST":
            response.status_code = 400
        return response


class ServiceRefused(Exception):
    """A service refused a save made in the admin (carries its ValidationError or
    PermissionDenied); the admin's transaction has been rolled back."""

    def __init__(self, error: ValidationError | PermissionDenied):
        super().__init__(str(error))
        self.error = error


class ServiceErrorsOnForm:
    """A ModelAdmin mixin: a ``ServiceRefused`` raised while saving (the admin's
    transaction rolled back) shows the form again with the service's errors (field
    errors next to their fields, the rest at the top), never a 500 or a redirect. With
    ``RefusedFormIs400`` the page answers 400."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._service_error = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class
        if isinstance(error, PermissionDenied):
            error = ValidationError(str(error) or "You may not make this change.")

        class RefusedForm(form_class):
            def clean(self):
                from accounts.web import add_service_errors

                cleaned_data = super().clean()
                add_service_errors(self, error)
                return cleaned_data

        return RefusedForm


class ServiceModelAdmin(ServiceErrorsOnForm, admin.ModelAdmin):
    """A ModelAdmin whose add and change forms save through a service, once.

    The admin saves the row (``save_model``) before its many-to-many values and
    inlines (``save_related``); a service takes them all in one call. So
    ``save_model`` writes nothing and ``save_related`` calls :meth:`service_save` with
    the form's cleaned data. When the service refuses, the admin's transaction is
    rolled back and the form is shown again with the service's errors (field errors
    next to their fields, the rest at the top), never a 500.
    """

    def service_save(self, request, form, formsets, change: bool):
        """Write through the service; return the saved row. Subclasses implement."""
        raise NotImplementedError

    def save_model(self, request, obj, form, change) -> None:
        """Nothing is written here: see save_related."""

    def save_related(self, request, form, formsets, change) -> None:
        try:
            saved = self.service_save(request, form, formsets, change)
        except (ValidationError, PermissionDenied) as exc:
            raise ServiceRefused(exc) from exc
        for formset in formsets:
            formset_changes(formset)
        # The admin goes on with form.instance (history entry, redirect): make it the
        # row the service saved.
        obj = form.instance
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()


class _RowRefused(Exception):
    def __init__(self, obj, error: ValidationError | PermissionDenied):
        super().__init__(str(error))
        self.obj, self.error = obj, error


def service_action(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    act: Callable,
    done: Callable[..., str],
) -> TemplateResponse | None:
    """Run an admin action that writes through a service: ``act(row)`` for every
    selected row, all in one transaction. A refusal of any row rolls every row back and
    answers a page saying which row and why, with 403 (the role may not), 409 (changed
    meanwhile) or 400, nothing written (issue 12: a refusal is never a redirect that
    looks like success). Otherwise one message per row (``done(row, result)``) and the
    admin's redirect to the list."""
    from accounts.web import refusal_reason, refusal_status

    done_messages = []
    try:
        with transaction.atomic():
            for row in queryset:
                try:
                    result = act(row)
                except (ValidationError, PermissionDenied) as exc:
                    raise _RowRefused(row, exc) from exc
                done_messages.append(done(row, result))
    except _RowRefused as refusal:
        opts = modeladmin.model._meta
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Nothing was done",
            "opts": opts,
            "row": refusal.obj,
            "refusal": refusal_reason(refusal.error),
            "selected": len(queryset),
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        status = refusal_status(refusal.error)
        if status == 403:  # the reason of the audited refusal (audit.refusals)
            request._refusal_reason = context["refusal"]
        return TemplateResponse(request, "admin/refused_action.html", context, status=status)
    for message in done_messages:
        modeladmin.message_user(request, message, messages.SUCCESS)
    return None


def _is_deleted(form) -> bool:
    return bool(getattr(form, "cleaned_data", None) and form.cleaned_data.get("DELETE"))


def formset_changes(formset) -> None:
    """Record on an inline formset what ``formset.save()`` would have recorded
    (``new_objects``, ``changed_objects``, ``deleted_objects``) when a service saved the
    rows instead, so the admin's change history still describes the edit."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for index, form in enumerate(formset.forms):
        is_initial = index < formset.initial_form_count()
        if is_initial and _is_deleted(form):
            formset.deleted_objects.append(form.instance)
        elif form.has_changed():
            if is_initial:
                formset.changed_objects.append((form.instance, form.changed_data))
            else:
                formset.new_objects.append(form.instance)


def inline_rows(formset, fields: list[str]) -> list[dict]:
    """The rows an inline formset describes after the edit (kept, changed and new;
    not deleted, not blank extras), as dicts of ``fields`` for a service."""
    rows = []
    for index, form in enumerate(formset.forms):
        is_initial = index < formset.initial_form_count()
        if not form.cleaned_data or _is_deleted(form):
            continue
        if not is_initial and not form.has_changed():
            continue
        rows.append({name: form.cleaned_data.get(name) for name in fields})
    return rows


class ReadOnlyAdminMixin:
    """For decision records and derived rows: shown in the admin, never added, changed
    or deleted there (works for ModelAdmin and inlines)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
