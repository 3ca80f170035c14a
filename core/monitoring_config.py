"""A version's monitoring configuration checked as plain data (issue #6). Pure: no Django.

``config_input`` cleans what a form, the API or the demo sends (feature lists given as
lists or comma-separated text, column names with stray spaces, no drop for the default);
``config_errors`` says what is wrong with it against the reference dataset's columns, as
``{field: message}`` with the form's field names. ``monitoring.services`` raises Django's
``ValidationError`` from that mapping; an empty mapping means the configuration is usable.

The rules, checked in this order (a later rule's message replaces an earlier one for the
same field, and a field keeps the place of its first message):

- at least one feature (numeric or categorical); a timestamp column; a prediction or a
  score column;
- no column named twice among the features; the prediction, score, outcome and id
  columns are not features (the timestamp column is not checked here);
- every feature and sensitive column, and the prediction, score and outcome columns, are
  columns of the reference dataset (the id and timestamp columns need not be);
- the allowed performance drop is a number between 0 and 1.

``performance_floors`` turns the reference's metrics and the allowed drop into the floors
a window's metrics are held to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_PERFORMANCE_MAX_DROP = 0.05
PERFORMANCE_METRICS = ("accuracy", "precision", "recall", "roc_auc")
# role columns that must be columns of the reference (the id and the time need not be)
REFERENCE_ROLE_FIELDS = ("prediction_column", "score_column", "outcome_column")
# columns shown in the message for a missing column
SHOWN_COLUMNS = 30


@dataclass(frozen=True)
class ConfigInput:
    """A monitoring configuration as sent, cleaned: column names stripped, empty names
    dropped, ``performance_max_drop`` the default when none was given (not yet checked)."""

    numeric: list[str]
    categorical: list[str]
    sensitive: list[str]
    roles: dict[str, str]  # "timestamp_column", "id_column"... -> name ("" when not named)
    performance_max_drop: Any

    def features_by_field(self) -> tuple[tuple[str, list[str]], ...]:
        return (("numeric_features", self.numeric), ("categorical_features", self.categorical))


def names(values: Any) -> list[str]:
    """Column names from a list or from comma-separated text; blanks dropped, each
    stripped. ``None`` is no names."""
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    return [str(v).strip() for v in values if str(v).strip()]


def config_input(
    *,
    numeric_features: Sequence[str] | str | None = (),
    categorical_features: Sequence[str] | str | None = (),
    sensitive_columns: Sequence[str] | str | None = (),
    timestamp_column: str | None = "",
    prediction_column: str | None = "",
    score_column: str | None = "",
    outcome_column: str | None = "",
    id_column: str | None = "",
    performance_max_drop: Any = None,
) -> ConfigInput:
    """Clean a configuration as sent (see ``ConfigInput``)."""
    roles = {
        "timestamp_column": (timestamp_column or "").strip(),
        "prediction_column": (prediction_column or "").strip(),
        "score_column": (score_column or "").strip(),
        "outcome_column": (outcome_column or "").strip(),
        "id_column": (id_column or "").strip(),
    }
    drop = DEFAULT_PERFORMANCE_MAX_DROP if performance_max_drop is None else performance_max_drop
    return ConfigInput(
        numeric=names(numeric_features),
        categorical=names(categorical_features),
        sensitive=names(sensitive_columns),
        roles=roles,
        performance_max_drop=drop,
    )


def config_errors(config: ConfigInput, *, reference_columns: Sequence[str]) -> dict[str, str]:
    """``{field: message}`` of everything wrong with ``config`` for a reference dataset
    with ``reference_columns`` (in the dataset's order); empty when it is usable."""
    errors: dict[str, str] = {}
    for checks in (
        _required(config),
        _named_twice(config),
        _not_in_reference(config, reference_columns),
        _drop(config),
    ):
        for field_name, message in checks:
            errors[field_name] = message
    return errors


def _required(config: ConfigInput) -> Iterator[tuple[str, str]]:
    if not config.numeric and not config.categorical:
        yield "numeric_features", "Name at least one feature (numeric or categorical)."
    if not config.roles["timestamp_column"]:
        yield "timestamp_column", "Name the column that holds each row's time."
    if not config.roles["prediction_column"] and not config.roles["score_column"]:
        yield "prediction_column", "Name the prediction column or the score column."


def _named_twice(config: ConfigInput) -> Iterator[tuple[str, str]]:
    seen: dict[str, str] = {}
    for field_name, feature_names in config.features_by_field():
        for name in feature_names:
            if name in seen:
                yield field_name, f"{name!r} is named twice ({seen[name]} and {field_name})."
            seen[name] = field_name
    for field_name, name in config.roles.items():
        if name and name in seen and field_name != "timestamp_column":
            yield field_name, f"{name!r} is already a feature."


def _not_in_reference(
    config: ConfigInput, reference_columns: Sequence[str]
) -> Iterator[tuple[str, str]]:
    present = set(reference_columns)
    shown = ", ".join(map(repr, list(reference_columns)[:SHOWN_COLUMNS]))
    for field_name, column_names in (
        *config.features_by_field(),
        ("sensitive_columns", config.sensitive),
    ):
        missing = [n for n in column_names if n not in present]
        if missing:
            listed = ", ".join(map(repr, missing))
            yield field_name, f"Not in the reference dataset: {listed}. Its columns are: {shown}."
    for field_name in REFERENCE_ROLE_FIELDS:
        name = config.roles[field_name]
        if name and name not in present:
            yield field_name, f"{name!r} is not in the reference dataset."


def _drop(config: ConfigInput) -> Iterator[tuple[str, str]]:
    drop = config.performance_max_drop
    if not isinstance(drop, int | float) or isinstance(drop, bool) or not 0 <= drop <= 1:
        yield "performance_max_drop", "Give a number between 0 and 1."


def performance_floors(overall: Mapping[str, Any] | None, max_drop: float) -> dict[str, float]:
    """The floor of each metric the reference has: its value minus the allowed drop, never
    below 0, rounded to 6 places. No metrics (no outcomes in the reference): no floors."""
    overall = overall or {}
    return {
        m: round(max(float(overall[m]) - max_drop, 0.0), 6)
        for m in PERFORMANCE_METRICS
        if overall.get(m) is not None
    }


# --- Is monitoring running? (issue 12: "monitoring configured" means running) ----------

CADENCE_DAYS = {"daily": 1, "weekly": 7}
# The first complete window of a version ends at most two periods after it enters
# production (windows start at its first row and close a period later); once it has
# been in production that long, its latest computed window must have ended within the
# last two periods (one period for the window, one for the data and the computation to
# arrive).
RUNNING_PERIODS = 2


def monitoring_running_problem(
    *,
    label: str,
    cadence: str,
    in_production: bool,
    entered_production: dt.datetime | None,
    latest_window_end: dt.datetime | None,
    now: dt.datetime,
) -> str | None:
    """Why a configured version's monitoring is not running, or None when it is.

    A version not in production yet, or in production for less than
    ``RUNNING_PERIODS`` periods of its cadence, is satisfied by its configuration (no
    production data can have been monitored yet). After that, a window with rows
    (``latest_window_end``: the end of the newest such window) must have ended within
    the last ``RUNNING_PERIODS`` periods. ``entered_production`` None (not known) counts
    as long ago."""
    period = dt.timedelta(days=CADENCE_DAYS.get(cadence, 7))
    grace = period * RUNNING_PERIODS
    if not in_production:
        return None
    if entered_production is not None and now - entered_production < grace:
        return None
    every = "day" if cadence == "daily" else "week"
    if latest_window_end is None:
        return (
            f"version {label} has been in production for more than {RUNNING_PERIODS} "
            f"{every}s and no monitoring window with production data has been computed "
            f"(windows are due every {every})."
        )
    if now - latest_window_end > grace:
        return (
            f"version {label}'s monitoring is not running: its latest window with "
            f"production data ended {latest_window_end:%Y-%m-%d %H:%M} UTC, more than "
            f"{RUNNING_PERIODS} {every}s ago (windows are due every {every})."
        )
    return None
