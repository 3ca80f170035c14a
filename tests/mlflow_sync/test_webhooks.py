"""MLflow's registry webhooks (issue 17): a delivery is accepted only when signed with
the configured secret, recent, and never seen before; then a sync of the model it names
is queued and the answer goes at once. Anything else: a clear 4xx, nothing queued."""

import json
import time

import pytest
from django.urls import reverse

from mlflow_sync.models import RegistryVersionLink, WebhookDelivery
from mlflow_sync.tasks import alias_check as alias_check_task
from mlflow_sync.tasks import registry_sync as registry_sync_task
from mlflow_sync.webhooks import signature
from notifications.models import JobMarker
from tests.factories import UseCaseFactory
from tests.outbox import queued

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("mlflow")]
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def secret(settings):
    settings.MLFLOW_WEBHOOK_SECRET = SECRET
    settings.MLFLOW_WEBHOOK_MAX_AGE_SECONDS = 300
    return SECRET


def deliver(client, body, *, delivery_id="d-1", timestamp=None, key=SECRET, sign=True):
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"HTTP_X_MLFLOW_DELIVERY_ID": delivery_id, "HTTP_X_MLFLOW_TIMESTAMP": stamp}
    if sign:
        headers["HTTP_X_MLFLOW_SIGNATURE"] = signature(key, delivery_id, stamp, raw)
    return client.post(
        reverse("mlflow_sync:webhook"), data=raw, content_type="application/json", **headers
    )


CREATED = {
    "entity": "model_version",
    "action": "created",
    "timestamp": "2026-12-05T10:00:00+00:00",
    "data": {"name": "credit-model", "version": "3", "source": "models:/m-1", "tags": {}},
}


def test_a_signed_recent_delivery_queues_a_sync_of_its_model(client, secret):
    answer = deliver(client, CREATED)

    assert answer.status_code == 202
    assert queued(registry_sync_task) == [
        {"trigger": "webhook", "registered_model": "credit-model"}
    ]
    assert WebhookDelivery.objects.get().event == "model_version.created"


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"key": "another-secret"}, 401, "signature does not match"),
        ({"sign": False}, 401, "needs X-MLflow-Delivery-Id"),
        ({"timestamp": int(time.time()) - 3600}, 401, "too old"),
        ({"timestamp": "yesterday"}, 400, "not a number"),
    ],
    ids=["forged", "unsigned", "old", "bad-timestamp"],
)
def test_a_forged_unsigned_or_old_delivery_is_refused_and_nothing_queued(
    client, secret, change, status, words
):
    answer = deliver(client, CREATED, **change)

    assert answer.status_code == status
    assert words in answer.json()["detail"]
    assert not JobMarker.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, secret):
    raw = json.dumps(CREATED).encode()
    stamp = str(int(time.time()))
    tampered = json.dumps({**CREATED, "data": {**CREATED["data"], "name": "other"}}).encode()
    answer = client.post(
        reverse("mlflow_sync:webhook"),
        data=tampered,
        content_type="application/json",
        HTTP_X_MLFLOW_DELIVERY_ID="d-9",
        HTTP_X_MLFLOW_TIMESTAMP=stamp,
        HTTP_X_MLFLOW_SIGNATURE=signature(SECRET, "d-9", stamp, raw),
    )
    assert answer.status_code == 401
    assert not JobMarker.objects.exists()


def test_a_replayed_delivery_is_refused_with_409(client, secret):
    assert deliver(client, CREATED, delivery_id="d-7").status_code == 202
    JobMarker.objects.update(done_at="2026-12-05T10:00:00Z")  # the first one was worked

    replay = deliver(client, CREATED, delivery_id="d-7")

    assert replay.status_code == 409
    assert "replay" in replay.json()["detail"]
    assert queued(registry_sync_task) == []
    assert WebhookDelivery.objects.count() == 1


def test_without_a_configured_secret_every_delivery_is_refused(client, settings):
    settings.MLFLOW_WEBHOOK_SECRET = ""
    answer = deliver(client, CREATED)
    assert answer.status_code == 401
    assert "MLFLOW_WEBHOOK_SECRET" in answer.json()["detail"]
    assert not JobMarker.objects.exists()


def test_a_signed_body_that_is_not_an_event_is_a_400(client, secret):
    answer = deliver(client, ["not", "an", "event"], delivery_id="d-3")
    assert answer.status_code == 400
    assert not WebhookDelivery.objects.exists()
    assert client.get(reverse("mlflow_sync:webhook")).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_version_created_in_mlflow_is_delivered_signed_and_imported(
    live_server, mlflow_server, mlflow_settings, settings, secret, data_scientist, unique
):
    """The real server's delivery: MLflow signs and posts it to the product's endpoint
    (a live server), which accepts it and queues the sync; the queued job imports it."""
    settings.MLFLOW_SYNC_USERNAME = data_scientist.username
    use_case = UseCaseFactory(team=data_scientist.teams.get(), name=unique("Webhooked"))
    name = unique("webhooked")
    mlflow_server.steps(
        (
            "webhook",
            {
                "name": name,
                "url": live_server.url + reverse("mlflow_sync:webhook"),
                "secret": SECRET,
                "events": ["model_version.created"],
            },
        ),
        ("register", {"name": name, "model_tags": {"governance.use_case": use_case.name}}),
    )
    deadline = time.monotonic() + 60
    while not WebhookDelivery.objects.filter(registered_model=name).exists():
        assert time.monotonic() < deadline, mlflow_server.log.read_text()[-2000:]
        time.sleep(0.2)

    delivery = WebhookDelivery.objects.get(registered_model=name)
    assert delivery.event == "model_version.created"
    assert queued(registry_sync_task) == [{"trigger": "webhook", "registered_model": name}]
    assert registry_sync_task.run(**queued(registry_sync_task)[0])["imported"] == 1
    assert RegistryVersionLink.objects.get(registered_model=name).version.model.use_case == use_case


def test_an_alias_set_queues_the_gates_check_of_that_version(client, secret):
    alias = {
        "entity": "model_version_alias",
        "action": "created",
        "data": {"name": "credit-model", "alias": "production", "version": "3"},
    }
    assert deliver(client, alias, delivery_id="d-alias").status_code == 202
    assert queued(alias_check_task) == [
        {"name": "credit-model", "alias": "production", "version": "3"}
    ]
    assert queued(registry_sync_task) == []
