from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = "Governance framework"

    def ready(self) -> None:
        from governance.audit_hooks import register_governance_models

        register_governance_models()
