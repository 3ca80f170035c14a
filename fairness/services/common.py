"""What the bias-summary services share: the obligation they serve, the default
thresholds, settings with defaults, who may attach data and run summaries, and how a
reader's error becomes a form error naming the column and row."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from core.scored_io import ScoredDataError
from inventory.models import ModelVersion
from inventory.permissions import can_change_version

BIAS_CONSIDERATION = "bias-harm-testing"
DEFAULT_THRESHOLDS = {"disparate_impact_min": 0.8, "equalized_odds_max_diff": 0.1}
_CHUNK = 1 << 22


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_upload_bytes() -> int:
    return int(_setting("SCORED_DATA_MAX_BYTES", 2 * 1024**3))


def can_run(user: User | None, version: ModelVersion) -> bool:
    """Data scientists of the use case's team and governance leads attach data and run."""
    return user is not None and can_change_version(user, version)


def _data_error(exc: ScoredDataError, field: str = "file") -> ValidationError:
    return ValidationError(
        {field: ValidationError(str(exc), code="scored_data", params=_where(exc))}
    )


def _where(exc: ScoredDataError) -> dict:
    return {"column": exc.column, "row": exc.row}
