"""The outbox in the admin: read-only (rows are written by the product and its workers)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "email", "subject_type", "sent_at", "attempts"]
    list_filter = ["kind", "subject_type"]
    search_fields = ["email", "key"]
    list_select_related = ["recipient"]
