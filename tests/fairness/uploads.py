"""Uploads are validated by a worker (issue 18): the tests that need a usable dataset run
the queued validation jobs as the worker would (the service the task calls), from the
task outbox's rows."""

from __future__ import annotations

from fairness import services as svc
from fairness.models import ScoredDataset
from fairness.tasks import scored_dataset_validate
from tests.outbox import queued


def validate_queued() -> list[dict]:
    """Run every queued validation job; returns what each did."""
    return [svc.scored_dataset_validate(**kwargs) for kwargs in queued(scored_dataset_validate)]


def validated(result: tuple[ScoredDataset, bool]) -> tuple[ScoredDataset, bool]:
    """``scored_dataset_upload``'s (dataset, created) once the worker has checked it."""
    dataset, created = result
    if dataset.status == ScoredDataset.Status.VALIDATING:
        validate_queued()
        dataset.refresh_from_db()
    return dataset, created
