"""A use case's lifecycle status follows its versions' environments (issue 12: status
follows reality). Pure: plain strings in, plain strings out.

- a version in production: the use case is in production;
- otherwise a version in QA or pre-production: it is in validation;
- otherwise a version in development: it is in development (or retired, when the
  team abandoned it before any version left development);
- every version retired: it is retired;
- no version yet: idea, development or retired, as the team says.

A status the records contradict is refused with the reason; when versions move, the
status follows (``lifecycle_derive``).
"""

from __future__ import annotations

from collections.abc import Iterable

IDEA = "idea"
DEVELOPMENT = "development"
VALIDATION = "validation"
PRODUCTION = "production"
RETIRED = "retired"

LABELS = {
    IDEA: "idea",
    DEVELOPMENT: "development",
    VALIDATION: "validation",
    PRODUCTION: "production",
    RETIRED: "retired",
}


def lifecycle_allowed(environments: Iterable[str]) -> tuple[tuple[str, ...], str]:
    """(the statuses the versions' environments allow, the first being the one a move
    leads to; why), for the environments of all the use case's versions."""
    envs = set(environments)
    if "prod" in envs:
        return (PRODUCTION,), "a version of it is in production"
    if envs & {"qa", "preprod"}:
        return (VALIDATION,), "a version of it is in QA or pre-production and none in production"
    if "dev" in envs:
        return (DEVELOPMENT, RETIRED), "its versions are in development only"
    if envs:
        return (RETIRED,), "every version of it is retired"
    return (IDEA, DEVELOPMENT, RETIRED), "it has no version yet"


def lifecycle_check(status: str, environments: Iterable[str]) -> str | None:
    """None when ``status`` agrees with the versions' environments, else the reason a
    person reads (what the records say and which statuses they allow)."""
    allowed, why = lifecycle_allowed(environments)
    if status in allowed:
        return None
    choices = " or ".join(LABELS[s] for s in allowed)
    return (
        f"The status cannot be {LABELS.get(status, status)}: {why}, so it is {choices}. "
        "The status follows the versions; move a version through a promotion request instead."
    )


def lifecycle_derive(current: str, environments: Iterable[str]) -> str:
    """The status after versions moved: ``current`` while the records allow it, else
    the status they lead to."""
    allowed, _why = lifecycle_allowed(environments)
    return current if current in allowed else allowed[0]
