"""Whether a person may give an approving signature now, asked by every signature of the
product that approves, accepts, confirms or validates (``governance.services.signing``
and ``reviews``): checks registered by higher layers in their ``AppConfig.ready``, e.g.
``engagement`` refuses a signer whose attestation or training lapsed when the policy
says so. Signatures that stop something (a rejection, a revocation) are not asked: a
lapse must never keep anyone from halting a model or a change."""

from collections.abc import Callable

from django.contrib.auth.models import User

_MISSING = object()
SIGNER_CHECKS: list[Callable[[User], str | None]] = []


def register_signer_check(check: Callable[[User], str | None]) -> None:
    """``check(user)`` returns why the user may not sign now, or None."""
    if check not in SIGNER_CHECKS:
        SIGNER_CHECKS.append(check)


CACHE_ATTRIBUTE = "_signer_refusal"


def signer_refusal(user: User) -> str | None:
    """Why ``user`` may not sign anything now (the first registered check that refuses),
    or None. Cached on the user object for the request (a page asks it for every
    meaning and every pending request, like ``accounts.permissions.user_roles``); a
    service that changes the answer calls ``signer_refusal_forget``."""
    cached = getattr(user, CACHE_ATTRIBUTE, _MISSING)
    if cached is not _MISSING:
        return cached
    why = None
    for check in SIGNER_CHECKS:
        why = check(user)
        if why:
            break
    if getattr(user, "pk", None) is not None:
        setattr(user, CACHE_ATTRIBUTE, why)
    return why


def signer_refusal_forget(user: User) -> None:
    """Drop the cached answer (after the user acknowledged or completed something)."""
    if hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)
