"""Template context shared by every page."""

from governance.choices import Role
from governance.permissions import user_roles


def roles(request) -> dict:
    codes = user_roles(request.user)
    return {
        "user_roles": codes,
        # Display names, in the Role enum's order (for the header).
        "user_role_labels": [role.label for role in Role if role in codes],
    }
