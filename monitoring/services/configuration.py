"""Configuring a version's monitoring: the reference dataset, its features and the
columns that play a role, checked by ``core.monitoring_config`` (pure) before anything is
saved; cadence and thresholds from the policy; the reference profile asked for (built by
a worker, which then sets the performance floors; at once when it was built before)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core import monitoring_config as rules
from fairness.models import ScoredDataset
from inventory.models import ModelVersion
from monitoring.models import MonitoringConfig
from monitoring.services.policy import (
    DEFAULT_PERFORMANCE_MIN_ROWS,
    can_configure,
    monitoring_policy,
)
from monitoring.services.profiles import performance_floors_set, reference_profile_request


@transaction.atomic
def monitoring_config_save(
    *,
    version: ModelVersion,
    by: User | None,
    reference: ScoredDataset,
    numeric_features: Sequence[str] | str = (),
    categorical_features: Sequence[str] | str = (),
    timestamp_column: str,
    prediction_column: str = "",
    score_column: str = "",
    outcome_column: str = "",
    id_column: str = "",
    sensitive_columns: Sequence[str] | str = (),
    performance_max_drop: float | None = None,
) -> tuple[MonitoringConfig, bool]:
    """Create or change a version's monitoring configuration and ask for its reference
    profile: built by a worker after commit (heavy queue), which then sets the
    performance floors and queues the windows; found at once when the same reference and
    columns were profiled before. A reference that cannot be read makes the profile
    fail, with the reason, on the monitoring page.

    Cadence and thresholds come from the use case's obligations (or the defaults), with
    their source. Raises PermissionDenied unless ``by`` may change the version (None:
    the system); ValidationError naming the field for columns the reference lacks, a
    column used twice, no feature, a reference of another version or one that is not
    valid (still validating, or rejected).
    """
    if by is not None and not can_configure(by, version):
        raise PermissionDenied(
            "Only data scientists of the use case's team and governance leads configure monitoring."
        )
    if reference.model_version_id != version.pk:
        raise ValidationError({"reference": "Choose a scored dataset of this version."})
    if reference.unusable_reason():  # quarantined or rejected (issue 18)
        raise ValidationError({"reference": reference.unusable_reason()})
    sent = rules.config_input(
        numeric_features=numeric_features,
        categorical_features=categorical_features,
        sensitive_columns=sensitive_columns,
        timestamp_column=timestamp_column,
        prediction_column=prediction_column,
        score_column=score_column,
        outcome_column=outcome_column,
        id_column=id_column,
        performance_max_drop=performance_max_drop,
    )
    errors = rules.config_errors(sent, reference_columns=reference.columns)
    if errors:
        raise ValidationError(errors)
    config, created, before = _config_apply(version, by, reference, sent)
    after = _config_snapshot(config)
    audit_record(
        action="monitoring.configured",
        obj=config,
        actor=by,
        reason=f"Cadence: {config.cadence_source}. Thresholds: {config.thresholds_source}.",
        changes={
            k: [None if before is None else before[k], v]
            for k, v in after.items()
            if before is None or before[k] != v
        },
        parent=version,
    )
    profile = reference_profile_request(config=config)
    performance_floors_set(config, profile)  # none until the profile is ready
    return config, created


def _config_apply(
    version: ModelVersion, by: User | None, reference: ScoredDataset, sent: rules.ConfigInput
) -> tuple[MonitoringConfig, bool, dict[str, Any] | None]:
    """Save the checked configuration on the version's row (a new one the first time),
    with the policy's cadence and thresholds. Returns (config, created, snapshot before)."""
    policy = monitoring_policy(version)
    now = timezone.now()
    config = MonitoringConfig.objects.select_for_update().filter(model_version=version).first()
    created = config is None
    if created:
        config = MonitoringConfig(model_version=version, created_by=by, created_at=now)
    before = None if created else _config_snapshot(config)
    config.reference = reference
    config.numeric_features = sent.numeric
    config.categorical_features = sent.categorical
    config.sensitive_columns = sent.sensitive
    for field_name, name in sent.roles.items():
        setattr(config, field_name, name)
    config.cadence = policy["cadence"]
    config.cadence_source = policy["cadence_source"]
    config.thresholds = {
        **policy["drift"],
        "performance_max_drop": float(sent.performance_max_drop),
        "performance_min_rows": DEFAULT_PERFORMANCE_MIN_ROWS,
    }
    config.thresholds_source = policy["thresholds_source"]
    config.updated_at = now
    config.full_clean()
    config.save()
    return config, created, before


def _config_snapshot(config: MonitoringConfig) -> dict[str, Any]:
    return {
        "reference": config.reference_id,
        "numeric_features": list(config.numeric_features),
        "categorical_features": list(config.categorical_features),
        "prediction_column": config.prediction_column,
        "score_column": config.score_column,
        "outcome_column": config.outcome_column,
        "timestamp_column": config.timestamp_column,
        "id_column": config.id_column,
        "sensitive_columns": list(config.sensitive_columns),
        "cadence": config.cadence,
        "thresholds": dict(config.thresholds),
    }
