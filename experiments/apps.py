from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Pre-registered A/B and shadow experiments: protocols locked by e-signature,
    assignment, outcomes, analysis by a worker, signed results filed as evidence."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "experiments"
    verbose_name = "Experiments"

    def ready(self) -> None:
        from audit.registry import record_former_label
        from experiments import models as m
        from experiments.services import SUBJECTS, render_notification
        from notifications.registry import register_renderer

        register_renderer(SUBJECTS, render_notification)

        # Events recorded before the move name these models under the reviews app.
        for model in (m.Experiment, m.ExperimentBatch, m.ExperimentOutcome):
            record_former_label(model, f"reviews.{model._meta.model_name}")
