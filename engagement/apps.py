from django.apps import AppConfig


class EngagementConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "engagement"
    verbose_name = "Attestations and training"

    def ready(self) -> None:
        from engagement import audit_hooks, mail
        from engagement.selectors import signing_lapse_refusal
        from engagement.services import campaign_start_for_change
        from governance.selectors.signers import register_signer_check
        from governance.services.framework_changes import register_after_apply
        from notifications.registry import register_renderer

        # Publishing a policy version or an ethical position starts a campaign.
        register_after_apply(campaign_start_for_change)
        # The policy decides whether a lapsed person may sign (every signature asks).
        register_signer_check(signing_lapse_refusal)
        register_renderer(mail.KINDS, mail.render)
        audit_hooks.register_all()
