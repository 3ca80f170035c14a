"""The pure check of a monitoring configuration (core.monitoring_config): what a form or
the API sends, cleaned, and the field errors against a reference dataset's columns."""

import datetime as dt
import math

import pytest

from core.monitoring_config import (
    DEFAULT_PERFORMANCE_MAX_DROP,
    config_errors,
    config_input,
    monitoring_running_problem,
    names,
    performance_floors,
)

REFERENCE = ["id", "ts", "age", "income", "region", "sex", "score", "y_hat", "y"]


def good(**overrides):
    """The configuration the monitoring tests use, with overrides."""
    sent = {
        "numeric_features": ["age", "income"],
        "categorical_features": ["region"],
        "timestamp_column": "ts",
        "prediction_column": "y_hat",
        "score_column": "score",
        "outcome_column": "y",
        "id_column": "id",
        "sensitive_columns": ["sex"],
    }
    return config_input(**{**sent, **overrides})


def test_a_usable_configuration_has_no_errors():
    assert config_errors(good(), reference_columns=REFERENCE) == {}
    # a score alone, or a prediction alone, is enough; id and outcome are optional
    assert config_errors(good(prediction_column=""), reference_columns=REFERENCE) == {}
    only_prediction = good(score_column="", outcome_column="", id_column="", sensitive_columns=())
    assert config_errors(only_prediction, reference_columns=REFERENCE) == {}


def test_form_text_is_cleaned_into_names():
    sent = config_input(
        numeric_features=" age, income ,, ",
        categorical_features=None,
        sensitive_columns="sex",
        timestamp_column="  ts ",
        prediction_column=None,
        score_column=" score",
    )
    assert sent.numeric == ["age", "income"]
    assert sent.categorical == []
    assert sent.sensitive == ["sex"]
    assert sent.roles == {
        "timestamp_column": "ts",
        "prediction_column": "",
        "score_column": "score",
        "outcome_column": "",
        "id_column": "",
    }
    assert sent.performance_max_drop == DEFAULT_PERFORMANCE_MAX_DROP
    assert names(["a ", " ", 7]) == ["a", "7"]
    assert names(None) == []


def test_nothing_named_gives_one_error_per_required_field():
    sent = config_input(timestamp_column="")
    assert config_errors(sent, reference_columns=REFERENCE) == {
        "numeric_features": "Name at least one feature (numeric or categorical).",
        "timestamp_column": "Name the column that holds each row's time.",
        "prediction_column": "Name the prediction column or the score column.",
    }


def test_columns_the_reference_lacks_are_named_with_its_columns():
    errors = config_errors(
        good(numeric_features="age, salary", sensitive_columns=["sex", "race"], outcome_column="z"),
        reference_columns=REFERENCE,
    )
    assert set(errors) == {"numeric_features", "sensitive_columns", "outcome_column"}
    assert errors["numeric_features"] == (
        "Not in the reference dataset: 'salary'. Its columns are: 'id', 'ts', 'age', "
        "'income', 'region', 'sex', 'score', 'y_hat', 'y'."
    )
    assert errors["sensitive_columns"].startswith("Not in the reference dataset: 'race'.")
    assert errors["outcome_column"] == "'z' is not in the reference dataset."


def test_the_message_shows_the_first_thirty_columns_only():
    wide = [f"c{i}" for i in range(40)]
    errors = config_errors(
        config_input(
            numeric_features=["c1", "nope"], timestamp_column="ts", prediction_column="c2"
        ),
        reference_columns=wide,
    )
    message = errors.pop("numeric_features")
    assert errors == {}
    assert "'c29'." in message and "'c30'" not in message


def test_the_id_and_timestamp_need_not_be_in_the_reference():
    errors = config_errors(
        good(id_column="pred_id", timestamp_column="at"), reference_columns=REFERENCE
    )
    assert errors == {}


def test_a_column_named_twice_or_a_role_that_is_a_feature():
    errors = config_errors(
        good(categorical_features=["region", "age"], prediction_column="income"),
        reference_columns=REFERENCE,
    )
    assert errors == {
        "categorical_features": "'age' is named twice (numeric_features and categorical_features).",
        "prediction_column": "'income' is already a feature.",
    }
    # the timestamp column may also be a feature
    assert config_errors(good(numeric_features=["age", "ts"]), reference_columns=REFERENCE) == {}


def test_a_later_rule_replaces_the_message_but_keeps_the_fields_place():
    # "score" is a feature (rule 2), then missing from this reference (rule 3)
    errors = config_errors(
        good(numeric_features=["age", "score"], score_column="score", prediction_column="p"),
        reference_columns=["id", "ts", "age", "region", "sex", "y"],
    )
    assert list(errors) == ["score_column", "numeric_features", "prediction_column"]
    assert errors["score_column"] == "'score' is not in the reference dataset."
    assert errors["numeric_features"].startswith("Not in the reference dataset: 'score'.")
    assert errors["prediction_column"] == "'p' is not in the reference dataset."


@pytest.mark.parametrize("drop", [0, 0.2, 1, 1.0])
def test_an_allowed_drop_between_0_and_1(drop):
    assert config_errors(good(performance_max_drop=drop), reference_columns=REFERENCE) == {}


@pytest.mark.parametrize("drop", [-0.01, 1.5, True, "0.1", math.nan])
def test_any_other_drop_is_refused(drop):
    errors = config_errors(good(performance_max_drop=drop), reference_columns=REFERENCE)
    assert errors == {"performance_max_drop": "Give a number between 0 and 1."}


def test_performance_floors_are_the_reference_minus_the_drop_never_below_zero():
    overall = {"accuracy": 0.81, "precision": 0.03, "recall": None, "roc_auc": 0.9, "n": 500}
    assert performance_floors(overall, 0.05) == {
        "accuracy": 0.76,
        "precision": 0.0,
        "roc_auc": 0.85,
    }
    assert performance_floors(None, 0.05) == {}
    assert performance_floors({}, 0.05) == {}


NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


# --- Is monitoring running? (issue 12) ---------------------------------------------------


@pytest.mark.parametrize(
    "cadence, entered_days, window_end_days, ok",
    [
        ("weekly", None, None, False),  # not known when it went live: owed now
        ("weekly", 13, None, True),  # less than two weeks in production
        ("weekly", 15, None, False),
        ("weekly", 60, 13, True),
        ("weekly", 60, 15, False),
        ("daily", 1, None, True),
        ("daily", 3, None, False),
        ("daily", 30, 1, True),
        ("daily", 30, 3, False),
    ],
)
def test_running_rule(cadence, entered_days, window_end_days, ok):
    days = dt.timedelta(days=1)
    problem = monitoring_running_problem(
        label="1.0",
        cadence=cadence,
        in_production=True,
        entered_production=None if entered_days is None else NOW - entered_days * days,
        latest_window_end=None if window_end_days is None else NOW - window_end_days * days,
        now=NOW,
    )
    assert (problem is None) is ok, problem


def test_not_in_production_needs_no_window():
    assert (
        monitoring_running_problem(
            label="1.0",
            cadence="daily",
            in_production=False,
            entered_production=None,
            latest_window_end=None,
            now=NOW,
        )
        is None
    )
