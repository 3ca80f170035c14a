"""The outbox in the admin: read-only (rows are written by the product and its workers)."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyAdminMixin
from notifications.models import JobMarker, Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "email", "subject_type", "sent_at", "attempts"]
    list_filter = ["kind", "subject_type"]
    search_fields = ["email", "key"]
    list_select_related = ["recipient"]


@admin.register(JobMarker)
class JobMarkerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The task outbox: what is pending, running, done or given up (with its error)."""

    list_display = ["task", "key", "wanted_at", "sent_at", "runs", "done_at", "failed_at"]
    list_filter = ["task", ("done_at", admin.EmptyFieldListFilter), "failed_at"]
    search_fields = ["task", "key", "error"]
    list_select_related = []
