"""Whether a person may sign at all, asked by every signature of the product
(``governance.services.signing`` and ``reviews``): checks registered by higher layers in
their ``AppConfig.ready``, e.g. ``engagement`` refuses a signer whose attestation or
training lapsed when the policy says so."""

from collections.abc import Callable

from django.contrib.auth.models import User

SIGNER_CHECKS: list[Callable[[User], str | None]] = []


def register_signer_check(check: Callable[[User], str | None]) -> None:
    """``check(user)`` returns why the user may not sign now, or None."""
    if check not in SIGNER_CHECKS:
        SIGNER_CHECKS.append(check)


def signer_refusal(user: User) -> str | None:
    """Why ``user`` may not sign anything now (the first registered check that refuses),
    or None."""
    for check in SIGNER_CHECKS:
        why = check(user)
        if why:
            return why
    return None
