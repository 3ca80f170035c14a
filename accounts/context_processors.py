"""Template context shared by every page."""

from django.conf import settings

from accounts.permissions import user_roles
from accounts.roles import Role


def roles(request) -> dict:
    codes = user_roles(request.user)
    return {
        "user_roles": codes,
        # Display names, in the Role enum's order (for the header).
        "user_role_labels": [role.label for role in Role if role in codes],
        # The sign-in page: the provider's button, the local form (issue 17).
        "sso_enabled": settings.SSO_ENABLED,
        "sso_provider_name": settings.OIDC_PROVIDER_NAME,
        "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
    }
