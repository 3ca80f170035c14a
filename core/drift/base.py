"""Settings shared by the drift modules: the profile schema version, bin and
distinct-value limits, the status of a feature's result, the input error, and the
verdict thresholds (``DriftThresholds``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1
DEFAULT_BINS = 10
PSI_EPSILON = 1e-4  # Evidently's fill for an empty bucket (see `_fill_zeros`)
PARALLEL_MIN_ROWS = 50_000  # below this, threads cost more than they save
KS_MAX_AUTO_N = 10_000  # ks_2samp(method="auto") is exact up to this sample size
CADENCES = ("daily", "weekly")

Kind = Literal["numeric", "categorical"]

# Status of one feature's result. Only "ok" carries statistics.
OK = "ok"
MISSING_IN_WINDOW = "missing_in_window"
NOT_IN_REFERENCE = "not_in_reference"
NO_ROWS = "no_rows"
ALL_MISSING = "all_missing"
INVALID = "invalid"


class DriftInputError(ValueError):
    """Input that cannot be used at all (e.g. timestamps without a time zone). ``row``:
    the 0-based index of the first value at fault, when one is."""

    def __init__(self, message: str, *, row: int | None = None):
        super().__init__(message)
        self.row = row


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class DriftThresholds:
    """When a feature counts as drifted. The policy gives `psi_max` (and the cadence);
    the rest are defaults that `from_policy` also accepts."""

    alpha: float = 0.05
    ks_min_effect: float = 0.1
    cramers_v_min: float = 0.1
    psi_max: float = 0.2
    # "contingency": chi-square test of homogeneity on the 2 x k table (a two-sample
    # test; the default). "goodness_of_fit": Evidently's "chisquare" stattest, the window
    # against the reference proportions taken as exact (`scipy.stats.chisquare`, missing
    # values left out); it ignores the reference's own sampling error, so its p-values are
    # smaller and it flags more. Offered to reproduce Evidently's verdicts.
    chi2_test: Literal["contingency", "goodness_of_fit"] = "contingency"

    def __post_init__(self) -> None:
        if self.chi2_test not in ("contingency", "goodness_of_fit"):
            raise ValueError(
                f"chi2_test must be contingency or goodness_of_fit, got {self.chi2_test!r}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, got {self.alpha!r}")
        for name in ("ks_min_effect", "cramers_v_min", "psi_max"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    @classmethod
    def from_policy(cls, params: Mapping[str, Any] | None) -> DriftThresholds:
        """Thresholds from a policy's drift parameters; other keys (cadence) are ignored."""
        params = params or {}
        known: dict[str, Any] = {
            k: float(params[k])
            for k in cls.__dataclass_fields__
            if k in params and k != "chi2_test"
        }
        if "chi2_test" in params:
            known["chi2_test"] = str(params["chi2_test"])
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
