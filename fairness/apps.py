from django.apps import AppConfig


class FairnessConfig(AppConfig):
    """Bias summaries: scored datasets stored once by content, subgroup fairness computed
    by workers (fanned out over Parquet row groups), findings and evidence, pages, API
    and CSV."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "fairness"
    verbose_name = "Bias summaries"

    def ready(self) -> None:
        from audit.registry import record_former_label
        from fairness import models as m

        # Events recorded before the move name these models under the reviews app.
        for model in (m.ScoredDataset, m.BiasSummary, m.BiasPartial):
            record_former_label(model, f"reviews.{model._meta.model_name}")
