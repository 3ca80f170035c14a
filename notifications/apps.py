from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The e-mail outbox every part of the product sends through: one row per (subject,
    recipient, kind), sent exactly once by a worker; each app renders its own kinds
    (``notifications.registry``)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "E-mail outbox"
