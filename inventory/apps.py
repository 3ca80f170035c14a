from django.apps import AppConfig


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = "Model inventory"

    def ready(self) -> None:
        from audit import registry as audit
        from inventory import models as m

        # Everything governed is in the audit trail (audit/registry.py).
        audit.register(m.Regulation)
        # Recorded as governance.regulation before the model moved here.
        audit.record_former_label(m.Regulation, "governance.regulation")
        audit.register(m.Team)
        audit.register(m.Dataset)
        audit.register(m.DatasetColumn, parent="dataset")
        audit.register(m.UseCase)
        audit.register(m.MLModel, parent="use_case")
        audit.register(m.ModelVersion, parent="model")
        audit.register(m.ArtifactLink, parent="model")
