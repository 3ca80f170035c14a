"""Outcomes of a running (or ended, not yet analysed) experiment, by API or CSV upload.

Parsing and checking the rows is pure (``core.experiment_outcomes``, from the
experiment's ``OutcomeLayout``); here its errors become ValidationErrors and a batch is
stored all or nothing, with an audit event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core import experiment_outcomes as eo
from core import experiment_tables as et
from experiments.models import Experiment, ExperimentBatch, ExperimentOutcome
from experiments.services.base import (
    MAX_BATCH_ROWS,
    MAX_CSV_BYTES,
    MAX_ROW_ERRORS,
    _audit,
    _locked,
    _require_run,
)
from experiments.services.lifecycle import accrual_srm_warn, end_if_due


def outcome_layout(experiment: Experiment) -> eo.OutcomeLayout:
    """What the experiment's outcome rows look like (its design, metric, salt, split and
    registered guardrails)."""
    return eo.OutcomeLayout.of(
        design=experiment.design,
        metric_kind=experiment.metric_kind,
        salt=experiment.salt,
        protocol=experiment.protocol,
        external=experiment.assignment == Experiment.Assignment.EXTERNAL,
    )


def outcomes_record(
    *,
    experiment: Experiment,
    by: User | None,
    rows: list[dict[str, Any]],
    source: str = ExperimentBatch.Source.API,
    name: str = "",
    sha256: str = "",
) -> ExperimentBatch:
    """Store a batch of observed units, all or nothing.

    Every row is checked first: the unit's key, its arm (known, and, when the product
    assigns, the arm the deterministic assignment gives its key; an outside
    randomiser's arms are guarded by the analysis's SRM and balance checks), numeric
    outcomes (0 or 1 for a
    proportion), registered guardrails. Any problem raises ValidationError listing
    the rows at fault (up to 20) and nothing is stored. Outcomes are accepted while
    the experiment runs and after it ended (late outcomes), not before or after the
    analysis. Duplicated units are stored as sent and counted by the analysis."""
    if by is not None:
        _require_run(by, experiment.use_case)
    cleaned, errors = eo.clean_rows(
        outcome_layout(experiment), rows, max_rows=MAX_BATCH_ROWS, max_errors=MAX_ROW_ERRORS
    )
    if errors:
        raise ValidationError(errors)
    if not sha256:
        sha256 = hashlib.sha256(
            json.dumps(cleaned, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    return _write_batch(experiment, by, cleaned, source, name, sha256)


@transaction.atomic
def _write_batch(experiment, by, cleaned, source, name, sha256) -> ExperimentBatch:
    experiment = _locked(experiment)
    if experiment.status not in (Experiment.Status.RUNNING, Experiment.Status.ENDED):
        raise ValidationError(
            "Outcomes are accepted while the experiment runs (and until it is analysed); "
            f"it is {experiment.get_status_display().lower()}."
        )
    batch = ExperimentBatch.objects.create(
        experiment=experiment,
        source=source,
        name=(name or "")[:255],
        sha256=sha256,
        rows=len(cleaned),
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    _insert_outcomes(experiment.pk, batch.pk, cleaned)
    _audit(
        "experiment.outcomes_recorded",
        experiment,
        by=by,
        reason=f"{len(cleaned)} rows ({batch.get_source_display()}{': ' + name if name else ''})",
        batch=(None, batch.pk),
        sha256=(None, sha256),
    )
    if not end_if_due(experiment):
        accrual_srm_warn(experiment)
    return batch


_OUTCOME_COLUMNS = (
    "experiment_id",
    "batch_id",
    "entity_key",
    "arm",
    "outcome",
    "champion_outcome",
    "challenger_outcome",
    "guardrails",
)


def _insert_outcomes(experiment_id: int, batch_id: int, cleaned: list[dict[str, Any]]) -> None:
    """The batch's rows, all checked above, written without model instances: the ORM's
    ``bulk_create`` spent most of a 60,000-row upload building and compiling them
    (bench/experiment_upload_bench.py). PostgreSQL: one COPY; elsewhere one
    parameterised INSERT run over the rows."""
    table = connection.ops.quote_name(ExperimentOutcome._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _OUTCOME_COLUMNS)
    rows = (
        (
            experiment_id,
            batch_id,
            r["entity_key"],
            r["arm"],
            r.get("outcome"),
            r.get("champion_outcome"),
            r.get("challenger_outcome"),
            json.dumps(r["guardrails"]),
        )
        for r in cleaned
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's own cursor: its errors wrapped as Django's (a deadlock or a lost
            # connection is an OperationalError: a 503, a task retry). It passes by the
            # execute wrappers: the audit chain's lock (audit.lock_order) was taken by the
            # batch's first write, in this transaction (``_write_batch``).
            sql = f"COPY {table} ({columns}) FROM STDIN"
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(_OUTCOME_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, list(rows))


def outcomes_csv_columns(experiment: Experiment) -> list[str]:
    """The columns an outcomes CSV has: the key, the arm and the outcome (A/B) or both
    models' outcomes (shadow), then one column per guardrail (shadow: two)."""
    return eo.csv_columns(outcome_layout(experiment))


def outcomes_parse_csv(experiment: Experiment, data: bytes) -> list[dict[str, Any]]:
    """CSV bytes -> rows for ``outcomes_record``. Raises ValidationError on a file that
    is not UTF-8 CSV, lacks a required column or has an unknown one."""
    rows, errors = eo.parse_csv(
        outcome_layout(experiment), data, max_bytes=MAX_CSV_BYTES, max_rows=MAX_BATCH_ROWS
    )
    if errors:
        raise ValidationError(errors)
    return rows


def outcomes_upload_csv(*, experiment: Experiment, by: User, data: bytes, name: str = ""):
    """Parse and record a CSV of outcomes (all or nothing)."""
    if by is not None:
        _require_run(by, experiment.use_case)
    rows = outcomes_parse_csv(experiment, data)
    # a row error names its line in the file (the header is line 1)
    return _record_file(experiment, by, rows, data, name, ExperimentBatch.Source.CSV, _csv_line)


def _csv_line(message: str) -> str:
    return _shift_line(
        message.replace("Row ", "Line ", 1) if message.startswith("Row ") else message
    )


def outcomes_upload_file(
    *,
    experiment: Experiment,
    by: User,
    data: bytes,
    name: str = "",
    mapping: dict[str, Any] | None = None,
):
    """Record an outcome file as a feature-flag platform exports it (issue 14): CSV or
    Parquet, its columns named by ``mapping`` (unit, arm, outcome, the arm labels;
    ``core.experiment_tables``). A plain CSV with the product's own columns and no
    mapping goes through ``outcomes_upload_csv``. All or nothing."""
    if by is not None:
        _require_run(by, experiment.use_case)
    given = {k: v for k, v in (mapping or {}).items() if v not in (None, "")}
    parquet = data[:4] == et.PARQUET_MAGIC
    if not given and not parquet:
        return outcomes_upload_csv(experiment=experiment, by=by, data=data, name=name)
    rows, errors = et.read_outcome_table(
        outcome_layout(experiment),
        data,
        et.OutcomeMapping.of(given),
        max_bytes=MAX_CSV_BYTES,
        max_rows=MAX_BATCH_ROWS,
    )
    if errors:
        raise ValidationError(errors)
    source = ExperimentBatch.Source.PARQUET if parquet else ExperimentBatch.Source.CSV
    return _record_file(experiment, by, rows, data, name, source, str)


def _record_file(experiment, by, rows, data: bytes, name: str, source: str, line_of):
    """Record a file's rows as one batch; a row error is said of the file (``line_of``
    turns the batch's row message into the file's)."""
    try:
        return outcomes_record(
            experiment=experiment,
            by=by,
            rows=rows,
            source=source,
            name=name,
            sha256=hashlib.sha256(data).hexdigest(),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "rows" in exc.error_dict:
            messages = [line_of(m) for m in exc.message_dict["rows"]]
            raise ValidationError({"file": messages}) from exc
        raise


def _shift_line(message: str) -> str:
    if message.startswith("Line "):
        head, _, rest = message.partition(":")
        number = head.removeprefix("Line ").strip()
        if number.isdigit():
            return f"Line {int(number) + 1}:{rest}"
    return message
