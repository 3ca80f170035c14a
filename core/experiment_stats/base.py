"""Shared vocabulary of the experiment statistics: arm, design, metric and alternative
names, the decisions, the two errors, and the JSON form every result dataclass uses
(``_Serialisable.to_dict``: non-finite floats become ``None``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np

ARMS = ("champion", "challenger")
DESIGNS = ("ab", "shadow")  # unpaired A/B split; paired shadow scoring
METRIC_KINDS = ("proportion", "mean")
ALTERNATIVES = ("two-sided", "one-sided")
TEST_ALTERNATIVES = ("two-sided", "larger", "smaller")
SPENDING_FUNCTIONS = ("obrien-fleming", "pocock")

REJECT_BETTER = "reject H0: challenger better"
REJECT_WORSE = "reject H0: challenger worse"
NO_DIFFERENCE = "no significant difference"
# A non-inferiority design's two outcomes (issue 14): H0 "the challenger is worse by
# the margin or more" rejected, or not.
NON_INFERIOR = "reject H0: challenger non-inferior"
NOT_NON_INFERIOR = "not shown non-inferior"
# The decisions that support promoting the challenger.
SUPPORTS_PROMOTION = (REJECT_BETTER, NON_INFERIOR)
CONTINUE = "continue to the next look"

DEFAULT_SRM_ALPHA = 0.001


class ProtocolError(ValueError):
    """A pre-registration protocol is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ExperimentDataError(ValueError):
    """Observed data cannot be analysed (negative counts, an arm with too few units...)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def _check_test_alternative(alternative: str) -> None:
    if alternative not in TEST_ALTERNATIVES:
        raise ValueError(f"alternative must be one of {TEST_ALTERNATIVES}, not {alternative!r}")
