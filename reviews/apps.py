from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews and sign-offs"

    def ready(self) -> None:
        from governance.services.raci import on_signer_staffing_changed
        from notifications.registry import register_renderer
        from reviews.services import notifications
        from reviews.services.signers import signatures_void_for_staffing

        register_renderer(notifications.KINDS, notifications.render)
        # A RACI change of who signs voids the approvals already given (issue 12).
        on_signer_staffing_changed(signatures_void_for_staffing)
