"""The demo's production monitoring (issue #6), loaded by the sign-off loader as soon as
the version is in production (before its gate call: monitoring that is not running
blocks a version in production for long, issue 12): a year of scored production data
for the version in production of a demo use case, generated here with a seeded numpy
RNG (no external data), monitored at the cadence its production-monitoring obligation
demands (daily for the critical "Retail credit application scoring", PSI above 0.1).

The data is stable for eleven months; in the last four weeks the applicants' requested
loan amount shifts upwards (a marketing campaign), which a real drift alert catches: the
alert opens a monitoring finding and its e-mail to the monitoring Accountable (the
model approver) is queued in the outbox. The finding is opened after the version's
production approval was signed, so it is not part of what the approvers signed: the
gate still answers ``allowed`` and names the finding as a warning
(``finding-opened-after-approval``, issue 12 item 8), and so do the gate log and the
request's page. Outcomes (repaid or not) have arrived for the first nine months, so
performance is charted over them.

Everything goes through the services and is computed synchronously (no broker needed):
the e-mail is a queued ``Notification`` row. Idempotent: nothing is done when the
version already has a monitoring configuration.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from fairness import services as bias_svc
from inventory.models import ModelVersion, UseCase
from inventory.permissions import can_change_version
from monitoring import services as svc
from monitoring.models import MonitoringBatch, MonitoringConfig
from monitoring.services.batch_validation import monitoring_batch_validate
from monitoring.tasks import reference_profile_build as reference_profile_build_task

USE_CASE = "Retail credit application scoring"
SEED = 20_260_601
REFERENCE_ROWS = 20_000
ROWS_PER_DAY = 1_000
DAYS = 365
SHIFT_DAYS = 28
OUTCOME_DAYS = 270  # outcomes have arrived for the first nine months
REFERENCE_MAPPING = {
    "outcome": "defaulted",
    "prediction": "declined",
    "score": "score",
    "sensitive": ["age_band", "sex"],
    "timestamp": "scored_at",
    "id": "application_id",
}
NUMERIC = ["income", "loan_amount", "debt_to_income", "months_at_address"]
CATEGORICAL = ["employment", "purpose"]


def _rows(rng: np.random.Generator, n: int, *, shift: float = 0.0) -> dict[str, np.ndarray]:
    income = np.round(rng.lognormal(10.4, 0.45, n), -2)
    loan = np.round(rng.lognormal(9.2 + shift, 0.5, n), -2)
    dti = np.round(np.clip(rng.beta(2, 5, n) * 0.8, 0, 0.8), 2)
    months = rng.integers(0, 240, n).astype(np.float64)
    employment = rng.choice(
        np.array(["employed", "self-employed", "retired", "unemployed"], dtype=object),
        size=n,
        p=[0.62, 0.18, 0.14, 0.06],
    )
    purpose = rng.choice(
        np.array(["car", "home improvement", "debt consolidation", "other"], dtype=object),
        size=n,
        p=[0.35, 0.25, 0.3, 0.1],
    )
    age_band = rng.choice(np.array(["18-29", "30-49", "50+"], dtype=object), size=n)
    sex = rng.choice(np.array(["F", "M"], dtype=object), size=n)
    logit = (
        -2.0
        + 3.0 * dti
        - 0.6 * (np.log(income) - 10.4)
        + 0.8 * (employment == "unemployed")
        + 0.2 * (np.log(loan) - 9.2)
    )
    p = 1 / (1 + np.exp(-logit))
    score = np.round(p, 3)
    return {
        "income": income,
        "loan_amount": loan,
        "debt_to_income": dti,
        "months_at_address": months,
        "employment": employment,
        "purpose": purpose,
        "age_band": age_band,
        "sex": sex,
        "score": score,
        "declined": (score >= 0.25).astype(np.int8),
        "defaulted": (rng.random(n) < p).astype(np.int8),
    }


def _parquet(data: dict) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(data), out)
    return out.getvalue()


def _owner(version: ModelVersion, users: dict[str, User]) -> User | None:
    owner = version.model.use_case.technical_owner
    return owner if can_change_version(owner, version) else None


def configure(version: ModelVersion, users: dict[str, User]) -> MonitoringConfig:
    """The version's monitoring configuration on its validation sample (idempotent).
    The sign-off loader calls it before the move to production: the policy's
    production-monitoring obligation is met by a configuration (issue 12)."""
    existing = MonitoringConfig.objects.filter(model_version=version).first()
    if existing is not None:
        return existing
    by = _owner(version, users)
    rng = np.random.default_rng(SEED)
    reference = _rows(rng, REFERENCE_ROWS)
    reference["application_id"] = np.array([f"v-{i}" for i in range(REFERENCE_ROWS)], dtype=object)
    reference["scored_at"] = pa.array(
        [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * REFERENCE_ROWS, pa.timestamp("s", tz="UTC")
    )
    dataset, _ = bias_svc.scored_dataset_upload(
        version=version,
        by=by,
        file=ContentFile(_parquet(reference), name="validation-sample.parquet"),
        mapping=REFERENCE_MAPPING,
        description="Validation sample the model was accepted on: the monitoring reference.",
        purpose="reference",
    )
    if dataset.status == dataset.Status.VALIDATING:  # a command: every row checked here
        bias_svc.scored_dataset_validate(dataset_id=dataset.pk)
        dataset.refresh_from_db()
    config, _ = svc.monitoring_config_save(
        version=version,
        by=by,
        reference=dataset,
        numeric_features=NUMERIC,
        categorical_features=CATEGORICAL,
        timestamp_column="scored_at",
        prediction_column="declined",
        score_column="score",
        outcome_column="defaulted",
        id_column="application_id",
        sensitive_columns=["age_band", "sex"],
        performance_max_drop=0.1,
    )
    # The demo's reference profile is built here, through the task a worker would run
    # (its outbox row marked done), so that the loaded demo has its floors and windows
    # without a worker.
    profile = svc.reference_profile_of(config)
    if profile is not None and not profile.is_ready:
        reference_profile_build_task(profile_id=profile.pk)
        config.refresh_from_db()
    return config


def load(*, users: dict[str, User], note: Callable[[str, str, bool], None]) -> None:
    use_case = UseCase.objects.filter(name=USE_CASE).first()
    version = (
        ModelVersion.objects.filter(model__use_case=use_case, environment="prod")
        .select_related("model__use_case")
        .order_by("-registered_at", "-pk")
        .first()
        if use_case
        else None
    )
    if version is None:
        note("monitoring", f"{USE_CASE}: no version in production, skipped", False)
        return
    config = MonitoringConfig.objects.filter(model_version=version).first()
    if config is not None and MonitoringBatch.objects.filter(config=config).exists():
        note("monitoring", str(version), False)
        return
    by = _owner(version, users)
    rng = np.random.default_rng(SEED)
    _rows(rng, REFERENCE_ROWS)  # the reference sample (see ``configure``)
    config = configure(version, users)
    now = timezone.now()
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - dt.timedelta(days=DAYS)
    outcomes_ids, outcomes_y = [], []
    month: dict[str, list] = {}
    for day in range(DAYS):
        start = first + dt.timedelta(days=day)
        shift = 0.35 if day >= DAYS - SHIFT_DAYS else 0.0
        data = _rows(rng, ROWS_PER_DAY, shift=shift)
        seconds = np.sort(rng.integers(0, 86_400, ROWS_PER_DAY))
        data["scored_at"] = [start + dt.timedelta(seconds=int(s)) for s in seconds]
        data["application_id"] = [f"a-{day:03d}-{i:04d}" for i in range(ROWS_PER_DAY)]
        if day < OUTCOME_DAYS:
            outcomes_ids += data["application_id"]
            outcomes_y.append(data["defaulted"])
        del data["defaulted"]
        for key, values in data.items():
            month.setdefault(key, []).append(values)
        if (day + 1) % 30 == 0 or day == DAYS - 1:
            text = ("scored_at", "application_id")
            batch = {
                k: np.concatenate([np.asarray(v, dtype=object) if k in text else v for v in vs])
                for k, vs in month.items()
            }
            batch["scored_at"] = pa.array(list(batch["scored_at"]), pa.timestamp("s", tz="UTC"))
            batch["application_id"] = pa.array(list(batch["application_id"]), pa.string())
            name = f"production-{batch['scored_at'][0].as_py():%Y-%m-%d}.parquet"
            received, _ = svc.monitoring_batch_upload(
                config=config, by=by, file=ContentFile(_parquet(batch), name=name), now=now
            )
            # the worker's check of every row, run here as the loader does for uploads
            monitoring_batch_validate(dataset_id=received.dataset_id)
            month = {}
    outcomes = {
        "application_id": pa.array(outcomes_ids, pa.string()),
        "defaulted": np.concatenate(outcomes_y),
    }
    received, _ = svc.monitoring_batch_upload(
        config=config,
        by=by,
        file=ContentFile(_parquet(outcomes), name="repayment-outcomes.parquet"),
        kind="outcomes",
        now=now,
    )
    monitoring_batch_validate(dataset_id=received.dataset_id)
    # computed here, synchronously; the e-mails are queued in the outbox (sent by a
    # worker's notifications task when one runs, never needed by the loader)
    with transaction.atomic():
        run = svc.monitoring_compute(config_id=config.pk, now=now, queue_emails=False)
    note("monitoring", f"{version}: {run['windows']} windows", True)
