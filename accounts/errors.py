"""The code a service gives a ValidationError that says the row's state changed
underneath the person (already decided, superseded, a stale version): a page answers
it with 409 instead of 400 (``accounts.web.refused``)."""

CONFLICT = "conflict"
