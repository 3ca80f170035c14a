"""Scored data where it lives (issue 17): governance leads register warehouse
connections (the secret stays in the environment); data scientists attach a read-only
query on one to a version of their use case, as they attach a file; a summary of it
counts in the engine (``pushdown_counts``) and stores the query, the connection and a
fingerprint of the result as its provenance."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import is_governance_lead
from audit.services import audit_context, audit_record
from core import fairness
from core.scored_io import ColumnMapping
from core.warehouse import (
    DIALECTS,
    ENGINE_DIALECTS,
    CheckedQuery,
    QueryRefused,
    check_query,
    columns_sql,
    pushdown_counts,
)
from fairness.models import BiasSummary, ScoredDataset, WarehouseConnection
from fairness.services.common import _setting, can_run
from fairness.services.datasets import parse_mapping
from fairness.warehouse import WarehouseError, open_session, secret_env_problem
from inventory.models import ModelVersion

_EDITABLE = ("dialect", "secret_env", "description", "active")


def connection_dialect(connection: WarehouseConnection) -> str:
    return ENGINE_DIALECTS.get(connection.engine) or connection.dialect


def _check_connection(connection: WarehouseConnection) -> None:
    errors: dict[str, str] = {}
    if connection.engine not in WarehouseConnection.Engine.values:
        errors["engine"] = "Choose PostgreSQL, DuckDB or another engine through SQLAlchemy."
    elif connection.engine == WarehouseConnection.Engine.SQLALCHEMY:
        if connection.dialect not in DIALECTS:
            errors["dialect"] = f"Name the engine's SQL dialect: one of {', '.join(DIALECTS)}."
    elif connection.dialect not in ("", ENGINE_DIALECTS[connection.engine]):
        errors["dialect"] = "PostgreSQL and DuckDB connections set their own dialect."
    problem = secret_env_problem(connection.secret_env)
    if problem:
        errors["secret_env"] = problem
    if errors:
        raise ValidationError(errors)


def _lead_only(by: User) -> None:
    if not is_governance_lead(by):
        raise PermissionDenied("Only governance leads register warehouse connections.")


@transaction.atomic
def warehouse_connection_register(
    *,
    by: User,
    name: str,
    engine: str,
    secret_env: str,
    dialect: str = "",
    description: str = "",
) -> WarehouseConnection:
    """Register a connection. Raises PermissionDenied unless ``by`` is a governance lead,
    ValidationError for a bad name, engine, dialect or secret variable (one that does not
    start with ``WAREHOUSE_SECRET_PREFIX``). Audited (the registry captures the row)."""
    _lead_only(by)
    connection = WarehouseConnection(
        name=name,
        engine=engine,
        dialect=dialect or "",
        secret_env=secret_env,
        description=description or "",
        created_by=by,
        created_at=timezone.now(),
    )
    connection.full_clean(exclude=["engine"])
    _check_connection(connection)
    with audit_context(actor=by):
        connection.save()
    return connection


@transaction.atomic
def warehouse_connection_update(
    *, connection: WarehouseConnection, by: User, changes: Mapping[str, Any]
) -> WarehouseConnection:
    """Change a connection's dialect, secret variable, description or switch it off/on
    (its name and engine are fixed: summaries name them). Same checks; audited."""
    _lead_only(by)
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise ValidationError({k: "This field cannot be changed." for k in unknown})
    connection = WarehouseConnection.objects.select_for_update().get(pk=connection.pk)
    for key, value in changes.items():
        setattr(connection, key, value)
    connection.full_clean(exclude=["engine"])
    _check_connection(connection)
    with audit_context(actor=by):
        connection.save()
    return connection


def _checked(connection: WarehouseConnection, query: str) -> CheckedQuery:
    try:
        return check_query(query, connection_dialect(connection))
    except QueryRefused as exc:
        raise ValidationError({"query": str(exc)}) from exc


def _query_columns(connection: WarehouseConnection, checked: CheckedQuery) -> list[str]:
    """The query's columns, asked of the engine with no rows read (a bad table or column
    is a 400 here, not a failed summary later)."""
    try:
        with open_session(connection) as session:
            return session.columns(columns_sql(checked))
    except WarehouseError as exc:
        raise ValidationError({"query": str(exc)}) from exc


def scored_query_create(
    *,
    version: ModelVersion,
    by: User,
    connection: WarehouseConnection,
    query: str,
    mapping: Mapping[str, Any],
    description: str = "",
) -> tuple[ScoredDataset, bool]:
    """Attach a read-only query on a registered connection to a version (an evaluation
    dataset of format "query"). The same connection, query and mapping find the same
    row (created False).

    Raises PermissionDenied unless ``by`` may run summaries for the version (data
    scientists of its team, governance leads); ValidationError when the connection is
    off, the query is not one read-only SELECT, the engine refuses it, or the mapping
    names a column the query does not return. Nothing is written then."""
    if not can_run(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads attach scored data."
        )
    if not connection.active:
        raise ValidationError(
            {"connection": f"The connection {connection.name!r} is switched off."}
        )
    columns_mapping: ColumnMapping = parse_mapping(mapping)
    checked = _checked(connection, query)
    columns = _query_columns(connection, checked)
    missing = [c for c in dict.fromkeys(n for _, n in columns_mapping.roles()) if c not in columns]
    if missing:
        raise ValidationError(
            {
                "mapping": f"The query returns no column {', '.join(map(repr, missing))}; it "
                f"returns {', '.join(columns[:30])}."
            }
        )
    identity = {"connection": connection.name, "query": query, "mapping": columns_mapping.to_dict()}
    sha = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    try:
        with transaction.atomic():
            dataset = ScoredDataset.objects.create(
                model_version=version,
                purpose=ScoredDataset.Purpose.EVALUATION,
                description=description or "",
                original_name=f"{connection.name}: query"[:255],
                format=ScoredDataset.Format.QUERY,
                size_bytes=0,
                sha256=sha,
                rows=0,
                columns=columns,
                mapping=columns_mapping.to_dict(),
                connection=connection,
                query=query,
                uploaded_by=by,
                uploaded_at=timezone.now(),
            )
            audit_record(
                action="scored_dataset.query_attached",
                obj=dataset,
                actor=by,
                reason=f"Query on {connection.name} ({connection.get_engine_display()}).",
                changes={"query": [None, query], "connection": [None, connection.name]},
                parent=version,
            )
    except IntegrityError:
        existing = ScoredDataset.objects.filter(model_version=version, sha256=sha).first()
        if existing is None:
            raise
        return existing, False
    return dataset, True


def pushdown_summary_counts(summary: BiasSummary) -> tuple[fairness.GroupCounts, dict]:
    """The counts of a query source's rows, counted by its engine, and the provenance
    stored with the summary. Raises WarehouseError (engine, timeout) or ScoredDataError
    (values the file reader would refuse); the caller fails the summary with either."""
    dataset = summary.dataset
    connection = dataset.connection
    mapping = ColumnMapping.from_dict(dataset.mapping)
    try:
        checked = check_query(dataset.query, connection_dialect(connection))
    except QueryRefused as exc:
        raise WarehouseError(str(exc)) from exc
    started = timezone.now()
    with open_session(connection) as session:
        result = pushdown_counts(
            checked,
            mapping,
            session.fetch,
            max_groups=int(_setting("BIAS_MAX_GROUPS", 1_000)),
        )
    provenance = {
        "connection": connection.name,
        "engine": connection.engine,
        "dialect": checked.dialect,
        "query": dataset.query,
        "statements": result.statements,
        "rows": result.rows,
        "result_sha256": result.fingerprint,
        "started_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
    }
    return result.counts, provenance
