"""The pure checks of a production batch (core.monitoring_batches): missing and extra
columns, the columns read for the windows, and the timestamps no window counts."""

import datetime as dt

import numpy as np

from core.monitoring_batches import TimestampSpan, batch_columns, column_problems, missing_columns

NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def ns(*values):
    return np.array(values, dtype="datetime64[ns]")


def test_missing_columns_are_named_once_in_order_and_blanks_are_ignored():
    columns = ["ts", "age", "score"]
    assert missing_columns(["ts", "y_hat", "", "id", "y_hat"], columns) == ["y_hat", "id"]
    assert missing_columns(["ts", "score"], columns) == []


def test_missing_features_and_columns_outside_the_configuration_are_recorded():
    problems = column_problems(
        features=["age", "income", "region"],
        roles={"ts", "id", "y_hat", "score", "", "sex"},
        columns=["id", "ts", "age", "region", "sex", "score", "y_hat", "channel"],
    )
    assert problems == [
        "Missing feature column(s) 'income': reported as missing in the windows.",
        "Column(s) not in the monitoring configuration, not compared: 'channel'.",
    ]
    assert column_problems(features=["age"], roles={"ts"}, columns=["ts", "age"]) == []


def test_at_most_twenty_extra_columns_are_named():
    extra = [f"x{i}" for i in range(25)]
    (problem,) = column_problems(features=["age"], roles={"ts"}, columns=["ts", "age", *extra])
    assert "'x19'." in problem and "'x20'" not in problem


def test_the_columns_read_for_the_windows_leave_out_unconfigured_roles():
    needed, text = batch_columns(
        timestamp="ts",
        numeric=["age", "score"],
        categorical=["region"],
        prediction="y_hat",
        score="score",
        id_column="",
        sensitive=["sex", "region"],
    )
    assert needed == ["ts", "age", "score", "region", "y_hat", "sex"]
    assert text == ["ts", "region", "sex", "region"]


def test_future_and_missing_timestamps_are_rejected_and_the_span_is_of_the_others():
    span = TimestampSpan.until(NOW)
    span.add(ns("2026-02-02T00:00:00", "NaT", "2026-02-10T06:30:00"))
    span.add(ns("2026-03-05T00:00:00", "2026-01-31T23:59:59"))
    assert (span.rows, span.rejected) == (5, 2)
    assert span.start == dt.datetime(2026, 1, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert span.end == dt.datetime(2026, 2, 10, 6, 30, tzinfo=dt.UTC)
    assert not span.all_rejected
    assert span.problems() == [
        "2 row(s) have no timestamp or one in the future; they are left out of every window."
    ]


def test_a_span_of_rejected_rows_only_or_of_no_rows():
    span = TimestampSpan.until(NOW)
    span.add(ns("NaT", "2026-03-02T12:00:01"))
    assert span.all_rejected and span.start is None and span.end is None
    empty = TimestampSpan.until(NOW)
    empty.add(ns())
    assert not empty.all_rejected and empty.problems() == [] and empty.rows == 0
    # "now" given in another zone is the same instant
    paris = TimestampSpan.until(NOW.astimezone(dt.timezone(dt.timedelta(hours=1))))
    paris.add(ns("2026-03-02T12:00:00"))
    assert paris.rejected == 0
