"""Admin site registrations, one module per part of the framework."""

from governance.admin import (
    classification,  # noqa: F401
    ethics,  # noqa: F401  (Step 2)
    framework_changes,  # noqa: F401  (four eyes on the framework)
    obligations,  # noqa: F401  (Step 5)
    people,  # noqa: F401  (user accounts and their roles)
    policy,  # noqa: F401  (Step 4)
    raci,  # noqa: F401  (Step 3)
)
