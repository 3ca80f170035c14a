"""Celery tasks of the MLflow registry sync. Thin: load ids, call a service."""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from accounts.task_retry import DB_RETRY
from notifications.jobs import OutboxTask, enqueue


@shared_task(
    name="mlflow_sync.tasks.registry_sync",
    base=OutboxTask,
    # One run at a time per registered model ("*": the whole registry).
    job_key=lambda kwargs: kwargs.get("registered_model") or "*",
    **DB_RETRY,
)
def registry_sync(*, trigger: str, user_id: int | None = None, registered_model: str = "") -> dict:
    """Import the registry (or one registered model) as ``user_id`` (blank: the sync
    account, ``MLFLOW_SYNC_USERNAME``)."""
    from django.contrib.auth import get_user_model

    from mlflow_sync.services import registry_sync as run
    from mlflow_sync.services import sync_user

    user = get_user_model().objects.get(pk=user_id) if user_id else sync_user()
    outcome = run(by=user, trigger=trigger, registered_model=registered_model)
    return {
        "status": outcome.status,
        "imported": outcome.imported,
        "updated": outcome.updated,
        "skipped": len(outcome.skipped),
    }


@shared_task(
    name="mlflow_sync.tasks.alias_check",
    base=OutboxTask,
    job_key=lambda kwargs: f"{kwargs['name']}@{kwargs['alias']}",
    **DB_RETRY,
)
def alias_check(*, name: str, alias: str, version: str) -> str:
    """An alias was set in MLflow (webhook): the gate decides, as the sync account."""
    from mlflow_sync.services import alias_check as run
    from mlflow_sync.services import sync_user

    return run(by=sync_user(), name=name, alias=alias, version=version)


@shared_task(name="mlflow_sync.tasks.registry_sync_scheduled", **DB_RETRY)
def registry_sync_scheduled() -> str:
    """Scheduled (every minute): queue a sync of the whole registry when MLflow is
    configured and the last scheduled pass started MLFLOW_SYNC_SECONDS ago or more."""
    from mlflow_sync.selectors import scheduled_sync_due

    if not settings.MLFLOW_TRACKING_URI or not scheduled_sync_due():
        return ""
    with transaction.atomic():
        return enqueue(registry_sync, kwargs={"trigger": "schedule", "registered_model": ""})
