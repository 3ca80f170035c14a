"""MLflow's registry webhooks (MLflow >= 3.3), received (issue 17).

MLflow signs each delivery as Standard Webhooks do (``mlflow/webhooks/delivery.py``):
headers ``X-MLflow-Delivery-Id``, ``X-MLflow-Timestamp`` (Unix seconds) and
``X-MLflow-Signature`` = ``v1,`` + base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")).
A delivery is accepted only with a valid signature under ``MLFLOW_WEBHOOK_SECRET``, a
timestamp within ``MLFLOW_WEBHOOK_MAX_AGE_SECONDS`` of now (either way) and an id never
seen before (``WebhookDelivery``); then a sync of the registered model it names is
queued through the outbox, in the transaction that records the id, and the answer goes
at once (the sync runs on a worker)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from mlflow_sync.models import SyncRun, WebhookDelivery
from notifications.jobs import enqueue

logger = logging.getLogger(__name__)

ID_HEADER = "X-MLflow-Delivery-Id"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
SIGNATURE_HEADER = "X-MLflow-Signature"
# The registry events that change what the inventory holds of a model.
EVENTS = {
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
}
ALIAS_SET = "model_version_alias.created"


@dataclass(frozen=True)
class Refusal(Exception):
    """A delivery refused: the HTTP status and the reason said to the sender."""

    status: int
    reason: str


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's signature of a delivery (``v1,<base64>``)."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(headers, body: bytes, *, now: float | None = None) -> tuple[str, dict]:
    """Check a delivery's signature and age; returns (delivery id, payload). Raises
    ``Refusal`` (401: unsigned, forged or out of its time window; 400: malformed)."""
    secret = settings.MLFLOW_WEBHOOK_SECRET
    if not secret:
        raise Refusal(401, "Webhooks are not accepted: MLFLOW_WEBHOOK_SECRET is not set.")
    delivery_id = headers.get(ID_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not (delivery_id and timestamp and given):
        raise Refusal(
            401, f"A delivery needs {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}."
        )
    if len(delivery_id) > WebhookDelivery._meta.get_field("delivery_id").max_length:
        raise Refusal(400, "The delivery id is too long.")
    expected = signature(secret, delivery_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s.strip()) for s in given.split(" ")):
        raise Refusal(401, "The signature does not match the delivery.")
    if not timestamp.isdigit():
        raise Refusal(400, "The timestamp is not a number of seconds.")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > settings.MLFLOW_WEBHOOK_MAX_AGE_SECONDS:
        raise Refusal(401, f"The delivery's timestamp is {int(age)} s from now: too old or early.")
    try:
        payload = json.loads(body)
    except ValueError as err:
        raise Refusal(400, "The body is not JSON.") from err
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise Refusal(400, "The body has no 'data' object.")
    return delivery_id, payload


def delivery_accept(*, delivery_id: str, payload: dict) -> str:
    """Record the delivery and queue the sync it calls for, in one transaction.
    Returns the job's key ("" for an event that changes nothing here). Raises
    ``Refusal`` (409) for a delivery id already accepted: nothing is queued."""
    from mlflow_sync.tasks import alias_check, registry_sync

    event = f"{payload.get('entity', '')}.{payload.get('action', '')}"[:100]
    name = str(payload["data"].get("name", ""))[:256]
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                delivery_id=delivery_id, event=event, registered_model=name
            )
            data = payload["data"]
            if event == ALIAS_SET and name and data.get("alias") and data.get("version"):
                return enqueue(
                    alias_check,
                    kwargs={
                        "name": name,
                        "alias": str(data["alias"])[:256],
                        "version": str(data["version"])[:50],
                    },
                )
            if event not in EVENTS or not name:
                return ""
            return enqueue(
                registry_sync,
                kwargs={"trigger": SyncRun.Trigger.WEBHOOK, "registered_model": name},
            )
    except IntegrityError as err:
        raise Refusal(409, f"Delivery {delivery_id} was already received: a replay.") from err
