"""A memo that lives for one read-only computation (issue 13: a gate call or a page
that evaluates many requests read the same published policy, measures, RACI template
and obligations again and again).

Inside ``memo_scope()``, a function decorated with ``@memoized`` runs once per set of
arguments; outside any scope it runs every time, so writers and their tests see no
change. Open a scope only around reads: nothing written inside it is seen by a memoized
function called again in the same scope. Memoized functions must return values their
callers do not mutate.

Arguments are keyed by value; a database row (anything with ``_meta`` and ``pk``) by its
class and primary key. A call whose arguments cannot be keyed runs uncached.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("memo", default=None)


class _Unkeyable(Exception):
    pass


@contextmanager
def memo_scope() -> Iterator[None]:
    """Memoize decorated reads until the block ends (a nested scope shares the outer)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def in_scope() -> bool:
    return _memo.get() is not None


def _key(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        if value.pk is None:
            raise _Unkeyable
        return (type(value).__qualname__, value.pk)
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_key(v) for v in value)
    raise _Unkeyable


def memoized[F: Callable[..., Any]](fn: F) -> F:
    """Run ``fn`` once per arguments within a ``memo_scope`` (see the module)."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        memo = _memo.get()
        if memo is None:
            return fn(*args, **kwargs)
        try:
            key = (
                name,
                tuple(_key(a) for a in args),
                tuple(sorted((k, _key(v)) for k, v in kwargs.items())),
            )
        except _Unkeyable:
            return fn(*args, **kwargs)
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        return memo[key]

    return wrapper  # type: ignore[return-value]
