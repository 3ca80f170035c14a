from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Who may do what: the product's roles (Django groups), the checks built on them
    for pages, the API and the admin site, and the request plumbing every app shares
    (the role gate of pages, the API's error mapping); API tokens (hashed, expiring),
    four-eyes role grants, idle session expiry and login lockout."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from accounts import signals
        from accounts.roles import sync_role_permissions
        from accounts.sso import signing  # noqa: F401 (registers the signatures' completer)

        signals.connect()

        post_migrate.connect(sync_role_permissions, dispatch_uid="governance-role-permissions")
