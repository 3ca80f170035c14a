"""Reads of the MLflow registry sync."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from mlflow_sync.models import RegistryVersionLink, SyncRun, UseCaseConflict


def scheduled_sync_due() -> bool:
    """Whether the scheduled pass is due: MLFLOW_SYNC_SECONDS > 0 and no scheduled run
    started within that many seconds."""
    seconds = settings.MLFLOW_SYNC_SECONDS
    if seconds <= 0:
        return False
    since = timezone.now() - timedelta(seconds=seconds)
    return not SyncRun.objects.filter(
        trigger=SyncRun.Trigger.SCHEDULE, started_at__gt=since
    ).exists()


def sync_runs_recent(*, limit: int = 20) -> QuerySet[SyncRun]:
    """The latest runs, newest first, with who started them."""
    return SyncRun.objects.select_related("started_by")[:limit]


def registry_links() -> QuerySet[RegistryVersionLink]:
    """Every imported MLflow version with its inventory version, model and use case."""
    return RegistryVersionLink.objects.select_related("version__model__use_case")


def use_case_conflicts(*, limit: int = 50) -> list[UseCaseConflict]:
    """Use case conflicts, the open ones first, then the latest resolved."""
    rows = UseCaseConflict.objects.select_related("current", "named", "resolved_by")
    return list(rows.filter(resolution="")) + list(rows.exclude(resolution="")[:limit])
