"""A shared cache that never fails a request (issue 13).

Everything the product keeps in the cache can be computed again: the portfolio figures
(``audit.figures``) and the gate's answers (``reviews.selectors.revision_cache``), each
under keys that name the state it was computed from. So when Redis is down or slow, a
read is a miss and a write is skipped: pages and gate calls compute instead of
answering 500. After a failure the backend leaves Redis alone for ``retry_after``
seconds (default 5), so a dead server costs one connect timeout per process every few
seconds, not one per call; it is logged once per such pause.

Options (``CACHES["default"]["OPTIONS"]``, from ``governance.settings_cache``):
``socket_connect_timeout`` and ``socket_timeout`` go to redis-py (short: a cache that
waits is worse than none), ``retry_after`` is this module's.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a failed call answers instead, per method: reads are misses, writes did nothing.
_FALLBACK: dict[str, Any] = {
    "get": "default",
    "get_many": {},
    "has_key": False,
    "add": False,
    "set": None,
    "set_many": [],
    "touch": False,
    "delete": False,
    "delete_many": None,
    "clear": None,
}


class TolerantRedisCache(RedisCache):
    """Django's Redis cache where a Redis error is a miss (reads) or a no-op (writes)."""

    def __init__(self, server, params) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 5.0))
        options.setdefault("socket_connect_timeout", 0.25)
        options.setdefault("socket_timeout", 0.5)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, method: str, error: Exception) -> None:
        with self._lock:
            logged = self.available  # the first failure of a pause is logged
            self._down_until = time.monotonic() + self.retry_after
        if logged:
            logger.warning(
                "cache: Redis failed in %s (%s); computing without the cache for %.0f s",
                method,
                type(error).__name__,
                self.retry_after,
            )


def _tolerant(method: str):
    wrapped = getattr(RedisCache, method)

    @functools.wraps(wrapped)
    def call(self: TolerantRedisCache, *args, **kwargs):
        fallback = _FALLBACK[method]
        if fallback == "default":  # get(key, default=None, version=None)
            fallback = args[1] if len(args) > 1 else kwargs.get("default")
        elif isinstance(fallback, dict | list):
            fallback = type(fallback)()  # a fresh one: the caller may change it
        if not self.available:
            return fallback
        try:
            return wrapped(self, *args, **kwargs)
        except RedisError as error:
            self._failed(method, error)
            return fallback

    return call


for _method in _FALLBACK:
    setattr(TolerantRedisCache, _method, _tolerant(_method))
