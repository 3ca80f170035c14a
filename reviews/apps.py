from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews and sign-offs"

    def ready(self) -> None:
        from notifications.registry import register_renderer
        from reviews.services import notifications

        register_renderer(notifications.KINDS, notifications.render)
