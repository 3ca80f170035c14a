"""Admin of people: governance leads assign people to teams and to the roles that
carry no approval duty, but cannot act as anyone else.

- Nobody but a superuser sets another person's password (the admin's password form
  is refused) or changes their e-mail address (which would route a password reset
  to the lead).
- Approval roles (``accounts.roles.FOUR_EYES_ROLES``) are granted through a role grant
  that a second lead confirms (``accounts.admin.RoleGrantAdmin``); nobody adds a role
  to themselves. Removing a role is allowed.
- Superusers are the break-glass path: they may do all of this, and their role
  changes are recorded in the audit trail with a reason saying so.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.admin_site import RefusedFormIs400
from accounts.services import role_changes_check
from audit.services import audit_context

BREAK_GLASS = "Break-glass: change made by a superuser in the admin."


admin.site.unregister(User)


@admin.register(User)
class GovernanceUserAdmin(RefusedFormIs400, UserAdmin):
    """Governance leads assign people to roles (groups) and teams within the rules
    above; only superusers grant superuser status or individual permissions."""

    list_filter = ["groups", "is_staff", "is_active", "teams"]
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_staff"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(g.name for g in obj.groups.all())

    def has_change_permission(self, request, obj=None) -> bool:
        # Changing a superuser (e.g. their password) would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "last_login", "date_joined"]
            if obj is not None and obj.pk != request.user.pk:
                readonly.append("email")
        return readonly

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser and str(request.user.pk) != str(id):
            raise PermissionDenied(
                "Only a superuser may set another person's password: a governance lead "
                "who knew it could sign as them. The person resets it themselves."
            )
        if request.user.is_superuser and str(request.user.pk) != str(id):
            with audit_context(reason=BREAK_GLASS):
                return super().user_change_password(request, id, form_url)
        return super().user_change_password(request, id, form_url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or "groups" not in form_class.base_fields:
            return form_class
        by, before = request.user, set(obj.groups.values_list("name", flat=True))

        class RoleCheckedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                groups = cleaned_data.get("groups")
                if groups is not None:
                    after = {g.name for g in groups}
                    try:
                        role_changes_check(by=by, user=obj, before=before, after=after)
                    except PermissionDenied as exc:
                        self.add_error("groups", str(exc))
                    except ValidationError as exc:
                        self.add_error(None, exc)
                return cleaned_data

        return RoleCheckedForm

    def save_model(self, request, obj, form, change) -> None:
        if request.user.is_superuser:
            with audit_context(reason=BREAK_GLASS):
                return super().save_model(request, obj, form, change)
        return super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        if request.user.is_superuser:
            with audit_context(reason=BREAK_GLASS):
                return super().save_related(request, form, formsets, change)
        return super().save_related(request, form, formsets, change)
