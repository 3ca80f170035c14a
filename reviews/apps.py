from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews and sign-offs"

    def ready(self) -> None:
        from accounts.sso.stepup import register_stepup_completer
        from governance.services.raci import on_signer_staffing_changed
        from notifications.registry import register_renderer
        from reviews.gate_revisions import install_after_migrate, remove_before_migrate
        from reviews.services import finding_mail, notifications
        from reviews.services.signers import signatures_void_for_staffing
        from reviews.services.sso_signing import KIND as SSO_SIGN
        from reviews.views.sso_signing import complete_request_sign

        register_renderer(notifications.KINDS, notifications.render)
        # Signing under single sign-on: the provider's re-authentication completes here.
        register_stepup_completer(SSO_SIGN, complete_request_sign)
        register_renderer(finding_mail.KINDS, finding_mail.render)
        # A RACI change of who signs voids the approvals already given (issue 12).
        on_signer_staffing_changed(signatures_void_for_staffing)
        # The database keeps the gate's revision tokens: triggers installed after every
        # migrate (like the append-only guards), dropped before it, as a migration may
        # change what they read.
        pre_migrate.connect(remove_before_migrate, sender=self, dispatch_uid="gate-revisions")
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="gate-revisions")
