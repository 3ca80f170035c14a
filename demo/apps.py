from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo portfolio behind ``manage.py seed_demo``: fixed, seeded data loaded
    through each app's own services, one loader per app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo portfolio"
