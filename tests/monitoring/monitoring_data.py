"""Synthetic scored data for the monitoring tests (issue #6): a reference sample and
production batches with timestamps, ids and (later) outcomes; drift injected on demand."""

import datetime as dt
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from django.core.files.base import ContentFile

from fairness import services as bias_svc
from monitoring import services as svc
from monitoring.services.batch_validation import monitoring_batch_validate
from monitoring.tasks import monitoring_batch_validate as monitoring_batch_validate_task
from monitoring.tasks import reference_profile_build
from tests.fairness.uploads import validated
from tests.outbox import queued

NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)  # a Monday
REFERENCE_MAPPING = {
    "outcome": "y",
    "prediction": "y_hat",
    "score": "score",
    "sensitive": ["sex"],
    "id": "id",
    "timestamp": "ts",
}


def rows(n, *, seed=1, start=None, days=1, shift=0.0, new_region=False, id_start=0):
    """n scored rows spread evenly over `days` days from `start` (UTC)."""
    rng = np.random.default_rng(seed)
    age = np.round(rng.normal(40 + shift * 10, 8, n))
    income = np.round(rng.lognormal(10, 0.4, n), -2)
    regions = ["north", "south", "east", "west"]
    region = rng.choice(regions, size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    if new_region:
        region[: n // 3] = "overseas"
    score = np.round(1 / (1 + np.exp(-(age - 40) / 8)), 3)
    y_hat = (score >= 0.5).astype(np.int8)
    y = (rng.random(n) < score).astype(np.int8)
    out = {
        "id": [f"p{id_start + i}" for i in range(n)],
        "age": age,
        "income": income,
        "region": region.tolist(),
        "sex": rng.choice(["F", "M"], size=n).tolist(),
        "score": score,
        "y_hat": y_hat,
        "y": y,
    }
    if start is not None:
        seconds = np.linspace(0, days * 86400 - 1, n).astype(int)
        out["ts"] = [(start + dt.timedelta(seconds=int(s))).isoformat() for s in seconds]
    return out


def csv_bytes(data: dict) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(pa.table(data), out)
    return out.getvalue().replace(b'"', b"")


def parquet_bytes(data: dict) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(data), out)
    return out.getvalue()


def without(data: dict, *names) -> dict:
    return {k: v for k, v in data.items() if k not in names}


def reference_dataset(version, by, n=4000, seed=1):
    data = rows(n, seed=seed, start=NOW - dt.timedelta(days=400), days=30)
    dataset, _ = validated(
        bias_svc.scored_dataset_upload(
            version=version,
            by=by,
            file=ContentFile(csv_bytes(data), name="reference.csv"),
            mapping=REFERENCE_MAPPING,
            purpose="reference",
        )
    )
    return dataset


def configure(version, by, reference, *, build=True, **kw):
    options = {
        "numeric_features": ["age", "income"],
        "categorical_features": ["region"],
        "timestamp_column": "ts",
        "prediction_column": "y_hat",
        "score_column": "score",
        "outcome_column": "y",
        "id_column": "id",
        "sensitive_columns": ["sex"],
    }
    options.update(kw)
    config, _ = svc.monitoring_config_save(version=version, by=by, reference=reference, **options)
    if build:
        build_profile(config)
    return config


def build_profile(config):
    """Run the queued reference profile build as the worker would (the task itself)."""
    profile = svc.reference_profile_of(config)
    if profile is not None and not profile.is_ready:
        reference_profile_build(profile_id=profile.pk)
        config.refresh_from_db()
    return svc.reference_profile_of(config)


def validate_batches() -> list[dict]:
    """Run the queued checks of production batches and outcomes as the worker would (the
    service its task calls); returns what each did."""
    return [
        monitoring_batch_validate(**kwargs) for kwargs in queued(monitoring_batch_validate_task)
    ]


def send(config, by, data, *, name="batch.csv", kind="production", fmt="csv", check=True):
    """Upload a batch (``check``: and let the worker validate it, as it would)."""
    body = csv_bytes(data) if fmt == "csv" else parquet_bytes(data)
    batch, created = svc.monitoring_batch_upload(
        config=config, by=by, file=ContentFile(body, name=name), kind=kind, now=NOW
    )
    if check:
        validate_batches()
        batch.refresh_from_db()
        batch.dataset.refresh_from_db()
    return batch, created


@pytest.fixture
def config(world, data_scientist, media):
    _, version = world
    return configure(version, data_scientist, reference_dataset(version, data_scientist))
