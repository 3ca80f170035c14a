"""The page benchmark's parts on a small scale portfolio (issue 18): it finds every
page and every list endpoint of the API, and measures each signed in (status, query
count, size). No timing is asserted."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from bench import pages_bench

pytestmark = pytest.mark.django_db


def test_every_page_and_list_endpoint_is_measured(db):
    from demo import scale

    scale.load(n=3, seed=0)
    targets = dict(pages_bench._targets())
    assert {"home", "my pending approvals", "periodic reviews", "my responsibilities"} <= set(
        targets
    )
    api = {label for label in targets if label.startswith("API ")}
    assert {"API use-case", "API obligation", "API promotion-request", "API audit-event"} <= api
    assert all(path.startswith("/api/v1/") for label, path in targets.items() if label in api)
    client = Client()
    client.force_login(User.objects.get(username="risk.officer"))
    for label in ("home", "periodic reviews", "API use-case", "governance KPIs"):
        row = pages_bench._measure(client, targets[label], repeats=2)
        assert row["status"] == 200 and row["queries"] > 0 and row["bytes"] > 0
        assert row["p50_ms"] <= row["p95_ms"]
