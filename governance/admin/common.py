"""Admin pieces shared by every part of the framework."""


class ReadOnlyAdminMixin:
    """For decision records and derived rows: shown in the admin, never added, changed
    or deleted there (works for ModelAdmin and inlines)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
