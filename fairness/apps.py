from django.apps import AppConfig


class FairnessConfig(AppConfig):
    """Bias summaries: scored datasets stored once by content, subgroup fairness computed
    by workers (fanned out over Parquet row groups), findings and evidence, pages, API
    and CSV."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "fairness"
    verbose_name = "Bias summaries"

    def ready(self) -> None:
        from audit import registry as audit
        from audit.registry import record_former_label
        from audit.stored_files import register_stored_files
        from fairness import models as m

        # Scored data are stored by content; the media sweep keeps what a row names.
        register_stored_files("scored-data", m.ScoredDataset, "file")
        # Uploads wait there until a worker validated every row (issue 18).
        register_stored_files("scored-quarantine", m.ScoredDataset, "file")

        from fairness.services import scored_dataset_given_up
        from notifications.jobs import register_give_up

        register_give_up("fairness.tasks.scored_dataset_validate", scored_dataset_given_up)

        # Warehouse connections (issue 17): every registration and change is audited
        # (never a secret: only the name of the variable holding it is stored).
        audit.register(m.WarehouseConnection, exclude=("created_at",))

        # Events recorded before the move name these models under the reviews app.
        for model in (m.ScoredDataset, m.BiasSummary, m.BiasPartial):
            record_former_label(model, f"reviews.{model._meta.model_name}")
