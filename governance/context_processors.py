"""Template context shared by every page."""

from governance.permissions import user_roles


def roles(request) -> dict:
    return {"user_roles": user_roles(request.user)}
