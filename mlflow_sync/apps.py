from django.apps import AppConfig


class MlflowSyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mlflow_sync"
    verbose_name = "MLflow registry sync"

    def ready(self) -> None:
        from audit import registry as audit
        from mlflow_sync import models as m

        # What MLflow said of an imported version, and each change of it, is audited.
        audit.register(m.RegistryVersionLink, parent="version", exclude=("synced_at",))
        # A use case conflict opened by the sync and its resolution by a governance lead.
        audit.register(
            m.UseCaseConflict,
            reason_field="note",
            action=lambda row, kind, changes: {
                "create": "mlflow_use_case_conflict_opened",
                "update": "mlflow_use_case_conflict_resolved",
            }.get(kind),
        )
