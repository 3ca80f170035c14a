"""Issue 18: the reference's performance counted batch by batch
(``drift.PerformanceAccumulator``) equals ``drift.performance`` on the whole data, its
errors name the row across batches; a profile column's arrays round-trip through
``drift.array_bytes``; merging as batches arrive equals merging them all at the end."""

import numpy as np
import pytest

from core import drift


def data(n, seed=3):
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(n), 3)
    y = (rng.random(n) < score).astype(float)
    y_hat = (score >= 0.5).astype(float)
    y[rng.random(n) < 0.1] = np.nan  # rows without an outcome
    score[rng.random(n) < 0.02] = np.nan
    return y, y_hat, score


@pytest.mark.parametrize("with_score", [True, False])
@pytest.mark.parametrize("capacity", [0, 5, 10_000])
def test_counted_batch_by_batch_equals_the_whole(with_score, capacity):
    y, y_hat, score = data(10_000)
    acc = drift.PerformanceAccumulator(with_score=with_score, capacity=capacity)
    for lo in range(0, 10_000, 1_234):
        hi = lo + 1_234
        acc.add(y[lo:hi], y_hat[lo:hi], score[lo:hi] if with_score else None)
    expected = drift.performance(y, y_hat, score=score if with_score else None)
    assert acc.result() == expected


def test_no_outcome_and_one_class_are_said_as_the_whole_says_them():
    y = np.full(50, np.nan)
    acc = drift.PerformanceAccumulator(with_score=True)
    acc.add(y, np.zeros(50), np.linspace(0, 1, 50))
    assert acc.result() == drift.performance(y, np.zeros(50), score=np.linspace(0, 1, 50))
    ones = np.ones(50)
    acc = drift.PerformanceAccumulator(with_score=True, capacity=50)
    acc.add(ones[:20], ones[:20], np.linspace(0, 1, 20))
    acc.add(ones[20:], ones[20:], np.linspace(0, 1, 30))
    result = acc.result()
    assert result["overall"]["roc_auc"] is None
    assert "ROC AUC undefined: only one outcome class" in result["overall"]["notes"]


def test_a_bad_value_is_named_by_its_row_across_batches():
    acc = drift.PerformanceAccumulator(with_score=False)
    acc.add(np.zeros(100), np.zeros(100))
    with pytest.raises(ValueError, match=r"outcome must be 0 or 1; row 105 is 2"):
        acc.add(np.r_[np.zeros(4), 2.0], np.zeros(5))
    with pytest.raises(ValueError, match="different lengths"):
        acc.add(np.zeros(3), np.zeros(4))


def test_arrays_round_trip_and_nothing_else_is_read():
    values = np.array([0.1, 1e300, -0.0, 3.5])
    counts = np.array([1, 2, 3, 2**40], dtype=np.int64)
    for arr in (values, counts):
        back = drift.array_from_bytes(drift.array_bytes(arr))
        assert back.dtype == arr.dtype and np.array_equal(back, arr)
    with pytest.raises(ValueError):
        drift.array_from_bytes(b"not an array")


def test_merging_as_batches_arrive_equals_merging_at_the_end(monkeypatch):
    monkeypatch.setattr(drift, "MAX_DISTINCT", 500)  # pooling happens along the way
    rng = np.random.default_rng(5)
    parts = [
        drift.profile_build(
            {"x": rng.normal(size=700), "c": rng.choice(["a", "b", ""], 700)},
            numeric=["x"],
            categorical=["c"],
        )
        for _ in range(6)
    ]
    running = parts[0]
    for p in parts[1:]:
        running = drift.profile_merge([running, p])
    assert running.to_dict() == drift.profile_merge(parts).to_dict()
