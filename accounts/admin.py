"""Admin of API tokens and role grants.

Tokens are listed without their secret (only its first characters); governance leads
revoke them. A token made here is for the person making it, and its secret is shown
once, in the confirmation message. Role grants are requested by one governance lead
and confirmed or refused by another (``accounts.services``).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.admin_site import RefusedFormIs400, ServiceModelAdmin, service_action
from accounts.models import ApiToken, RoleGrant
from accounts.services import (
    api_token_create,
    api_token_revoke,
    role_grant_confirm,
    role_grant_refuse,
    role_grant_request,
)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix_shown", "user", "name", "created", "expires", "last_used", "state"]
    list_filter = ["revoked_at", "expires"]
    search_fields = ["user__username", "prefix", "name"]
    list_select_related = ["user"]
    fields = ["name"]
    actions = ["revoke"]

    @admin.display(description="token")
    def prefix_shown(self, obj) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="state")
    def state(self, obj) -> str:
        if obj.revoked_at:
            return f"revoked ({obj.revoked_reason})"
        return "expired" if obj.expires <= timezone.now() else "active"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name"]
        return ["prefix_shown", "user", "name", "created", "expires", "last_used", "state"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
        obj.pk = token.pk
        obj._state.adding = False
        obj.refresh_from_db()
        self.message_user(
            request,
            f"Your new API token (shown this once, store it now): {secret}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        reason = f"revoked by {request.user.get_username()} in the admin"
        count = sum(api_token_revoke(token=t, reason=reason) for t in queryset)
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


@admin.register(RoleGrant)
class RoleGrantAdmin(RefusedFormIs400, ServiceModelAdmin):
    list_display = ["user", "role", "status", "requested_by", "requested_at", "decided_by"]
    list_filter = ["status", "role"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "requested_by", "decided_by"]
    actions = ["confirm", "refuse"]
    autocomplete_fields = []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "role", "reason"]
        return [
            "user",
            "role",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, form, formsets, change: bool):
        if change:
            raise PermissionDenied("A role grant is confirmed or refused, never edited.")
        data = form.cleaned_data
        return role_grant_request(
            by=request.user, user=data["user"], role=data["role"], reason=data["reason"]
        )

    def _decide(self, request, queryset, decide, done: str):
        return service_action(
            self,
            request,
            queryset,
            lambda grant: decide(grant=grant, by=request.user),
            lambda grant, _: f"{grant}: {done}.",
        )

    @admin.action(description="Confirm the selected grants (second lead)", permissions=["change"])
    def confirm(self, request, queryset):
        return self._decide(request, queryset, role_grant_confirm, "confirmed")

    @admin.action(description="Refuse the selected grants", permissions=["change"])
    def refuse(self, request, queryset):
        return self._decide(request, queryset, role_grant_refuse, "refused")
