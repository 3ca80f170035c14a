"""Redis down under a running web server (issue 13): pages and the API still serve, a
request that queues work answers as usual (no 500 after its commit), the work waits in
the outbox; once Redis is back, the sweep (beat's ``jobs_sweep``, run here by a real
worker as beat would have it run) publishes it and a real worker completes it, once.

The Redis server is a private one this test starts (``redis-server`` on a free port,
killed and started again on the same port); the test skips, saying why, when
``redis-server`` is not installed. The web server is gunicorn with production settings
(``governance/gunicorn_conf.py``, DEBUG off) on the test database."""

import json
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from notifications.models import JobMarker
from notifications.tasks import jobs_sweep
from tests.factories import ModelVersionFactory, UseCaseFactory, api_token_for
from tests.integration.conftest import worker_database_url
from tests.integration.private_services import private_redis
from tests.integration.test_bias_worker import Workers, assert_done_once, status_of
from tests.integration.test_task_outbox import dataset_of
from tests.integration.web_server import WebServer, session_static_root, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "an outage password 42"
SUMMARY = "reviews.tasks.bias_summary_run"


@pytest.fixture
def redis_server(tmp_path):
    server = private_redis(tmp_path / "redis")
    yield server
    server.kill()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_with_redis_down_pages_serve_and_queued_work_runs_when_it_is_back(
    transactional_db,
    redis_server,
    settings,
    tmp_path,
    tmp_path_factory,
    media,
    team,
    data_scientist,
):
    # transactional_db by name: tests/conftest.py's migrated_content then restores the
    # roles an earlier committed-data test's teardown emptied.
    version = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    dataset = dataset_of(version, data_scientist, 20_000)
    hasher = PBKDF2PasswordHasher()  # what production settings verify with
    data_scientist.password = hasher.encode(PASSWORD, hasher.salt())
    data_scientist.save(update_fields=["password"])
    api = {"Authorization": f"Token {api_token_for(data_scientist)}", "Accept": "application/json"}

    settings.CELERY_BROKER_URL = redis_server.url  # the workers' private broker: on it
    workers = Workers(tmp_path, media, {})
    workers.env["JOBS_QUEUE"] = workers.queue
    web = WebServer(
        tmp_path / "web",
        worker_database_url(),
        session_static_root(tmp_path_factory),
        {
            "CELERY_BROKER_URL": workers.broker_url,
            # The shared cache on the same Redis: down with it, pages compute instead.
            "DJANGO_CACHE_URL": redis_server.url.rsplit("/", 1)[0] + "/1",
            "DJANGO_MEDIA_ROOT": str(media),
            "JOBS_QUEUE": workers.queue,
        },
    )
    web.folder.mkdir()
    try:
        web.start()
        session = {"Cookie": sign_in(web, data_scientist.username, PASSWORD)}
        redis_server.kill()

        # Reads: pages and the API serve.
        assert web.get("/", headers=session).status == 200
        page = web.get(reverse("fairness:bias-version", args=[version.pk]), headers=session)
        assert page.status == 200, page.body[:300]
        assert web.get("/api/v1/use-cases/", headers=api).status == 200
        ready = web.get("/readyz")
        assert ready.status == 503 and ready.json()["failing"] == ["broker"]

        # A write that queues work: answered as usual, the work waits as a row.
        asked = web.request(
            "POST",
            f"/api/v1/scored-datasets/{dataset.pk}/summaries/",
            body=json.dumps({"min_group_size": 30}).encode(),
            headers={**api, "Content-Type": "application/json"},
        )
        assert asked.status == 202, asked.body[:500]
        summary_id = asked.json()["id"]
        assert status_of(summary_id).status == "queued"
        job = JobMarker.objects.get(task=SUMMARY)
        assert job.sent_at is None and job.done_at is None

        # Redis back (same port), a worker starts; beat's sweep publishes the row.
        redis_server.start()
        worker = workers.start("back")
        deadline = time.monotonic() + 90
        next_sweep = 0.0
        while status_of(summary_id).status != "done":
            assert time.monotonic() < deadline, worker.log_tail()
            worker.check_alive()
            if time.monotonic() >= next_sweep:
                worker.send(jobs_sweep)
                next_sweep = time.monotonic() + 3
            time.sleep(0.2)
        assert_done_once(summary_id, dataset)
        job.refresh_from_db()
        assert job.done_at is not None and job.runs == 1
        assert web.get("/readyz").status == 200
    finally:
        web.stop()
        workers.stop_all()
