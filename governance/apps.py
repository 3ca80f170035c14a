from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = "Governance framework"

    def ready(self) -> None:
        from governance.audit_registry import register_governance_models
        from governance.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="governance-role-permissions")
        register_governance_models()
