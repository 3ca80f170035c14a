from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The tamper-evident audit trail: hash-chained, append-only events recorded for
    every governed model (each app registers its own in ``ready``) and for workflow
    events; its pages, API, exports and the ``audit_verify`` command."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"
