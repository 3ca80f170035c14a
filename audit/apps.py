from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


class AuditConfig(AppConfig):
    """The tamper-evident audit trail: hash-chained, append-only events recorded for
    every governed model (each app registers its own in ``ready``) and for workflow
    events; its pages, API, exports and the ``audit_verify`` command."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from audit.db_guard import guard_after_migrate, lift_frozen_before_migrate
        from audit.lock_order import install

        # PostgreSQL: every write transaction takes the audit chain's lock first.
        connection_created.connect(install, dispatch_uid="audit-lock-order")

        # Once per migrate (sender: this app), after every app's migrations; the frozen
        # rows' guards are lifted before them (data migrations are the owner's changes).
        post_migrate.connect(guard_after_migrate, sender=self, dispatch_uid="audit-db-guard")
        pre_migrate.connect(
            lift_frozen_before_migrate, sender=self, dispatch_uid="audit-db-guard-frozen"
        )
