from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Step 8, "monitor and refine" (issue 16): daily governance snapshots, key risk
    indicators, the KPI trends page and the framework review."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "oversight"
    verbose_name = "Governance KPIs and framework review"

    def ready(self) -> None:
        from audit import registry as audit
        from audit.db_guard import register_frozen
        from notifications.registry import register_renderer
        from oversight import mail
        from oversight.models import FrameworkReview, KeyRiskIndicator

        register_renderer(mail.KINDS, mail.render)
        # KRIs are edited in the admin: every change is in the audit trail.
        audit.register(KeyRiskIndicator, exclude=("created_at", "updated_at"))
        # A signed review is frozen in the database too. Its proposals are frozen by the
        # services only: governance may still discard the draft one became (the link is
        # then cleared, SET_NULL), which a database guard would turn into an error.
        signed = FrameworkReview.Status.SIGNED.value
        register_frozen(
            FrameworkReview, field="status", value=signed, what="a signed framework review"
        )
