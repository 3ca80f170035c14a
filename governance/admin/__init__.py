"""Admin site registrations, one module per part of the framework."""

from governance.admin import classification  # noqa: F401
