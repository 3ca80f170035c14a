"""Template context shared by every page."""

from accounts.permissions import user_roles
from accounts.roles import Role


def roles(request) -> dict:
    codes = user_roles(request.user)
    return {
        "user_roles": codes,
        # Display names, in the Role enum's order (for the header).
        "user_role_labels": [role.label for role in Role if role in codes],
    }
