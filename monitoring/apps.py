from django.apps import AppConfig


class MonitoringAppConfig(AppConfig):
    """Monitoring: reference profiles, production batches, daily or weekly windows of input
    and performance drift computed by workers, alerts, findings and e-mails, pages and
    API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from audit.registry import record_former_label
        from monitoring import models as m
        from monitoring.services import render_notification
        from notifications.models import Notification
        from notifications.registry import register_renderer

        register_renderer([Notification.Kind.DRIFT_ALERT], render_notification)

        from monitoring.services import reference_profile_given_up
        from monitoring.services.batch_validation import monitoring_batch_given_up
        from notifications.jobs import register_give_up

        register_give_up("monitoring.tasks.reference_profile_build", reference_profile_given_up)
        register_give_up("monitoring.tasks.monitoring_batch_validate", monitoring_batch_given_up)

        # Issue 12: the production-monitoring obligation of tiers that owe monitoring is
        # met by the version's monitoring configuration, which only this app can see.
        from governance.evidence_checks import register_evidence_check
        from monitoring.services.policy import monitoring_configured

        register_evidence_check("monitoring-config", monitoring_configured)

        # Events recorded before the move name these models under the reviews app.
        for model in (
            m.MonitoringConfig,
            m.ReferenceProfile,
            m.MonitoringBatch,
            m.MonitoringWindow,
            m.DriftAlert,
            m.DriftAlertEvent,
        ):
            record_former_label(model, f"reviews.{model._meta.model_name}")
