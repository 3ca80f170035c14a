from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    """The tamper-evident audit trail: hash-chained, append-only events recorded for
    every governed model (each app registers its own in ``ready``) and for workflow
    events; its pages, API, exports and the ``audit_verify`` command."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from audit.db_guard import guard_after_migrate

        # Once per migrate (sender: this app), after every app's migrations.
        post_migrate.connect(guard_after_migrate, sender=self, dispatch_uid="audit-db-guard")
