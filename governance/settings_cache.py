"""The cache (issue 13), read from the environment (``governance.settings`` has loaded
``.env`` before importing this module; every variable is in ``.env.example``).

What is cached can always be computed again: portfolio figures kept under the audit
chain's head (``audit.figures``) and the gate's answers under the revision tokens of what
they read (``reviews.selectors.revision_cache``). By default each process keeps its own
(local memory). With ``DJANGO_CACHE_URL`` (e.g. ``redis://127.0.0.1:6379/1``: another
database than the broker's) every web process and host shares one, so a figure or an
answer is computed once per change for the whole installation instead of once per
process; when Redis fails the product computes without it
(``governance.cache_backend``)."""

import environ

env = environ.Env()

DJANGO_CACHE_URL = env.str("DJANGO_CACHE_URL", default="")
_FIGURE_ENTRIES = env.int("FIGURE_CACHE_ENTRIES", default=2000)

if DJANGO_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "governance.cache_backend.TolerantRedisCache",
            "LOCATION": DJANGO_CACHE_URL,
            "KEY_PREFIX": env.str("DJANGO_CACHE_KEY_PREFIX", default="governance"),
            "OPTIONS": {
                # Seconds: a cache that waits is worse than none (then the product
                # computes, and leaves Redis alone for DJANGO_CACHE_RETRY_SECONDS).
                "socket_connect_timeout": env.float("DJANGO_CACHE_TIMEOUT_SECONDS", default=0.25),
                "socket_timeout": env.float("DJANGO_CACHE_TIMEOUT_SECONDS", default=0.25),
                "retry_after": env.float("DJANGO_CACHE_RETRY_SECONDS", default=5.0),
            },
        }
    }
elif DJANGO_CACHE_URL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"DJANGO_CACHE_URL must be a redis://, rediss:// or unix:// URL, not {DJANGO_CACHE_URL!r}"
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": _FIGURE_ENTRIES},
        }
    }
