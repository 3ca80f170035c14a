"""Admin edits of the framework's catalogue are proposals (four eyes, issue 12).

The admin's forms are kept, with their validation (parameters against their schemas,
options still fitting the rules), but "Save" writes nothing to the row: it records a
``FrameworkChange`` holding the content the form would have saved, and sends the lead
to the proposal's page. A second governance lead signs its approval there
(``/framework-changes/<id>/``, password re-entered), which applies it. Rows are never
deleted here. A refused proposal (nothing changed, a row gone meanwhile) shows the form
again with the reason, status 400 (``RefusedFormIs400``), and nothing is written.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from accounts.admin_site import RefusedFormIs400, ServiceErrorsOnForm, ServiceRefused
from governance.services.catalogue_changes import (
    catalogue_change_propose,
    catalogue_proposed_content,
)

HELP = (
    "Saving proposes this change; it takes effect only when another governance lead "
    "signs its approval on the proposal's page."
)


class ProposalForm(forms.ModelForm):
    proposal_reason = forms.CharField(
        label="Reason for the change",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=HELP,
    )


def _remaining_children(formset) -> list:
    deleted = set(map(id, formset.deleted_forms))
    rows = []
    for form in formset.forms:
        if id(form) in deleted:
            continue
        if form.instance.pk is None and not form.has_changed():
            continue  # an empty extra form
        rows.append(form.instance)
    return rows


class ProposedChangeAdmin(RefusedFormIs400, ServiceErrorsOnForm, admin.ModelAdmin):
    """A catalogue admin whose saves are proposals (see the module)."""

    form = ProposalForm

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change) -> None:
        """Nothing is saved: the proposal is made in ``save_related``."""

    def save_formset(self, request, form, formset, change) -> None:
        """Nothing is saved: the children are part of the proposal."""

    def save_related(self, request, form, formsets, change) -> None:
        children = {}
        for formset in formsets:
            relation = formset.fk.remote_field.related_name or formset.prefix
            children[relation] = _remaining_children(formset)
        try:
            content = catalogue_proposed_content(obj=form.instance, children=children)
            request._framework_change = catalogue_change_propose(
                content=content, by=request.user, reason=form.cleaned_data["proposal_reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            raise ServiceRefused(exc) from exc

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # nothing was saved (the message would read the formsets' saves)

    def log_addition(self, request, obj, message):
        return None  # the proposal is audited; nothing was added

    def log_change(self, request, obj, message):
        return None  # the proposal is audited; nothing was changed

    def _proposed(self, request) -> HttpResponseRedirect:
        change = request._framework_change
        self.message_user(
            request,
            f"Proposed (#{change.pk}): nothing changes until another governance lead signs "
            "its approval.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("governance:framework-change", args=[change.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._proposed(request)

    def response_change(self, request, obj):
        return self._proposed(request)
