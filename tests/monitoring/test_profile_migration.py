"""Issue 18: reference profiles stored as one JSON document before move, by a data
migration, into a summary and one row per column, and back again when migrating back;
nothing is lost either way (the profile loads equal to the one stored)."""

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core import drift
from monitoring import services as svc
from monitoring.models import ReferenceProfile
from tests.factories import ScoredDatasetFactory

BEFORE = [("monitoring", "0001_initial")]
AFTER = [("monitoring", "0004_remove_referenceprofile_profile")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def a_profile() -> drift.Profile:
    rng = np.random.default_rng(2)
    return drift.profile_build(
        {
            "age": np.round(rng.normal(40, 8, 3000)),
            "score": np.r_[rng.random(2990), [np.nan] * 10],
            "region": rng.choice(["north", "south", ""], 3000).astype(object),
        },
        numeric=["age", "score"],
        categorical=["region"],
    )


@pytest.mark.django_db(transaction=True)
def test_json_profiles_move_into_parts_and_back(owner_connection):
    dataset = ScoredDatasetFactory()
    original = a_profile().to_dict()
    executor = migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("monitoring", "ReferenceProfile")
        built = timezone.now()
        ready = old.objects.create(
            dataset_id=dataset.pk,
            fingerprint="a" * 64,
            options={"numeric": ["age", "score"]},
            profile=original,
            performance={"overall": {"accuracy": 0.8}},
            rows=3000,
            built_at=built,
        )
        failed = old.objects.create(
            dataset_id=dataset.pk,
            fingerprint="b" * 64,
            options={},
            error="The reference dataset cannot be profiled: no rows",
            built_at=built,
        )
        migrate(AFTER)
        ready_now = ReferenceProfile.objects.get(pk=ready.pk)
        assert ready_now.status == "ready" and ready_now.requested_at == built
        assert ready_now.performance == {"overall": {"accuracy": 0.8}}
        assert svc.reference_profile_load(ready_now).to_dict() == original
        assert (
            ready_now.summary["features"]["region"]["missing"]
            == original["features"]["region"]["counts"][0]
        )
        assert ready_now.summary["features"]["score"] == {
            "kind": "numeric",
            "n": 2990,
            "missing": 10,
            "distinct": len(original["features"]["score"]["values"]),
            "approximate": False,
        }
        failed_now = ReferenceProfile.objects.get(pk=failed.pk)
        assert failed_now.status == "failed" and "no rows" in failed_now.error

        executor = migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("monitoring", "ReferenceProfile")
        assert old.objects.get(pk=ready.pk).profile == original
        assert old.objects.get(pk=failed.pk).profile is None
    finally:
        migrate(AFTER)
