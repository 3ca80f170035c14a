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
        from oversight.models import FrameworkReview, KeyRiskIndicator, PolicyChangeProposal

        register_renderer(mail.KINDS, mail.render)
        # KRIs are edited in the admin: every change is in the audit trail.
        audit.register(KeyRiskIndicator, exclude=("created_at", "updated_at"))
        # A signed review, and its proposals, are frozen in the database too.
        signed = FrameworkReview.Status.SIGNED.value
        register_frozen(
            FrameworkReview, field="status", value=signed, what="a signed framework review"
        )
        register_frozen(
            PolicyChangeProposal,
            field="status",
            value=signed,
            through="review",
            what="a proposal of a signed framework review",
        )
