"""The shared cache (issue 13, ``DJANGO_CACHE_URL``): every process reads what one
computed, a gate answer shared through Redis is exactly as fresh as a local one, and
with Redis down nothing fails: reads are misses, writes are skipped, pages and gate calls
compute. Against a real redis-server process (tests/integration/private_services.py)."""

import logging

import pytest
from django.urls import reverse

from governance.cache_backend import TolerantRedisCache
from reviews.selectors import revision_cache as gate_cache
from reviews.services import promotion as svc
from tests.integration.private_services import private_redis
from tests.reviews.signoff_world import PASSWORD
from tests.reviews.test_gate import approved, ask_gate  # noqa: F401

BACKEND = "governance.cache_backend.TolerantRedisCache"


@pytest.fixture
def redis_server(tmp_path):
    server = private_redis(tmp_path / "redis")
    yield server
    server.kill()


def backend(url: str, **options) -> TolerantRedisCache:
    """What one process builds from DJANGO_CACHE_URL (governance.settings_cache)."""
    return TolerantRedisCache(url, {"KEY_PREFIX": "t", "OPTIONS": options})


def shared_cache(settings, url: str) -> None:
    settings.CACHES = {
        "default": {"BACKEND": BACKEND, "LOCATION": url, "OPTIONS": {"retry_after": 60}}
    }


def test_one_process_reads_what_another_computed(redis_server):
    web_1, web_2 = backend(redis_server.url), backend(redis_server.url)
    web_1.set("figure:home", {"open": 12}, 60)
    assert web_2.get("figure:home") == {"open": 12}
    assert web_2.get_many(["figure:home", "nothing"]) == {"figure:home": {"open": 12}}


def test_with_redis_down_reads_are_misses_and_writes_are_skipped(redis_server, caplog):
    cached = backend(redis_server.url, retry_after=60)
    cached.set("figure:home", 1, 60)
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="governance.cache_backend"):
        assert cached.get("figure:home") is None
        assert cached.get("figure:home", "computed") == "computed"
        assert cached.set("figure:home", 2, 60) is None
        found = cached.get_many(["figure:home"])
        assert found == {}
        found["x"] = 1  # the caller's own dict
        assert cached.get_many(["figure:home"]) == {}
        assert cached.add("k", 1) is False and cached.has_key("k") is False
        cached.delete("figure:home")
    failures = [r for r in caplog.records if "computing without the cache" in r.message]
    assert len(failures) == 1, "one warning per pause, not one per call"
    assert not cached.available


def test_after_the_pause_it_tries_redis_again(redis_server):
    cached = backend(redis_server.url, retry_after=0)
    redis_server.kill()
    assert cached.get("k", "computed") == "computed"
    assert cached.available  # no pause: the next call asks Redis again
    redis_server.start()
    cached.set("k", "kept", 60)
    assert cached.get("k") == "kept"


@pytest.mark.django_db
def test_pages_and_the_gate_serve_with_the_cache_down(
    redis_server,
    settings,
    approved,  # noqa: F811
    client_for,
    risk_officer,
    api_client_for,
    data_ops,
):
    use_case, version, _ = approved
    shared_cache(settings, redis_server.url)
    redis_server.kill()
    pages = client_for(risk_officer)
    pages.raise_request_exception = False
    for name in ("dashboard:home", "dashboard:my-work", "dashboard:my-work-counts"):
        assert pages.get(reverse(name)).status_code == 200, name
    answer = ask_gate(api_client_for(data_ops), model_version=version.pk, environment="qa")
    assert answer.status_code == 200 and answer.json()["allowed"] is True


@pytest.mark.django_db
def test_a_gate_answer_computed_by_one_process_serves_another(
    redis_server,
    settings,
    approved,  # noqa: F811
    api_client_for,
    data_ops,
    django_assert_max_num_queries,
):
    use_case, version, req = approved
    shared_cache(settings, redis_server.url)
    settings.GATE_CACHE_ENTRIES = 4096
    api = api_client_for(data_ops)
    gate_cache.cache_clear()
    first = ask_gate(api, model_version=version.pk, environment="qa").json()
    assert gate_cache.cache_stats()["misses"] == 1
    gate_cache.cache_clear()  # another web process: its own memory is empty
    # Authentication, the caller's role, the version, the tokens, the log row: not the
    # ~30 queries of computing the answer.
    with django_assert_max_num_queries(8):
        second = ask_gate(api, model_version=version.pk, environment="qa").json()
    for key in ("allowed", "reasons", "warnings", "request"):
        assert second[key] == first[key]
    gate_cache.cache_clear()


@pytest.mark.django_db
def test_a_shared_answer_never_outlives_a_revocation(
    redis_server,
    settings,
    approved,  # noqa: F811
    api_client_for,
    client_for,
    data_ops,
    governance_lead,
):
    """The pipeline hopes the "allowed" another process shared is still served after the
    approval was revoked."""
    use_case, version, req = approved
    shared_cache(settings, redis_server.url)
    settings.GATE_CACHE_ENTRIES = 4096
    api = api_client_for(data_ops)
    assert ask_gate(api, model_version=version.pk, environment="qa").json()["allowed"]
    client_for(governance_lead).post(
        reverse("reviews:request-revoke", args=[req.pk]),
        {"reason": "Scored on the wrong population.", "password": PASSWORD},
    )
    req.refresh_from_db()
    assert req.status == svc.PromotionRequest.Status.REVOKED
    gate_cache.cache_clear()  # the next call lands on another process
    blocked = ask_gate(api, model_version=version.pk, environment="qa").json()
    assert blocked["allowed"] is False
