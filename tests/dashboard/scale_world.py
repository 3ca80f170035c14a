"""The scale portfolio of ``demo.scale`` in the test database, for query counts that
must not depend on the number of use cases (issue 18): ``scale_counts`` measures pages at
3 use cases and again at 30, built by the same code as ``manage.py seed_scale``."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

SIZES = (3, 30)


def _queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200, url  # warms the per-process caches
    cache.clear()  # figures kept until the records change (audit.figures): counted cold
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def scale_counts(db):
    """``measure(urls, username)`` -> {url: [queries at 3 use cases, at 30]}, signed in
    as the demo user ``username``; ``urls`` may be callables of the portfolio's first
    use case (for detail pages)."""
    from django.contrib.auth.models import User

    from demo import scale

    def measure(urls, username: str = "risk.officer") -> dict[str, list[int]]:
        counts: dict[str, list[int]] = {}
        for size in SIZES:
            scale.load(n=size, seed=0)
            client = Client()
            client.force_login(User.objects.get(username=username))
            first = scale.scale_use_cases().order_by("pk").first()
            for url in urls:
                key = url if isinstance(url, str) else url.__name__
                counts.setdefault(key, []).append(
                    _queries(client, url if isinstance(url, str) else url(first))
                )
        return counts

    return measure
