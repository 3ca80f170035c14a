"""Admin site registrations, one module per part of the framework."""

from governance.admin import (
    classification,  # noqa: F401
    policy,  # noqa: F401  (Step 4)
)
