"""The audit scope single sign-on's own changes (just-in-time accounts, roles from the
claim, accounts locked) are recorded under. Accounts sits below the audit app, so the
audit app's ``audit_context`` is registered from ``governance.audit_hooks``; the
changes themselves are captured by the audit registry (users and their groups)."""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

_scope: Callable[..., AbstractContextManager] = lambda **kwargs: nullcontext()  # noqa: E731


def register_audit_scope(factory: Callable[..., AbstractContextManager]) -> None:
    """``factory(actor=..., reason=...)`` -> a context manager (``audit_context``)."""
    global _scope
    _scope = factory


def audit_scope(*, actor, reason: str) -> AbstractContextManager:
    return _scope(actor=actor, reason=reason)
