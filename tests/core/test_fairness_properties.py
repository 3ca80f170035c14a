"""Property tests: bias counts ignore row order and merge exactly (issue #5)."""

import functools
import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fairness import GroupCounts, accumulate, summarise

RACE = ["a", "b", "c", None, "", float("nan")]
SEX = ["F", "M", None]
SCORES = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
REL = 1e-12


@st.composite
def datasets(draw, *, weighted=None, score_cap=None):
    n = draw(st.integers(0, 80))
    rows = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    weighted = draw(st.booleans()) if weighted is None else weighted
    continuous = draw(st.booleans())
    score = st.floats(0, 1) if continuous else st.sampled_from(SCORES)
    data = {
        "race": np.array(draw(st.lists(st.sampled_from(RACE), min_size=n, max_size=n)), object),
        "sex": np.array(draw(st.lists(st.sampled_from(SEX), min_size=n, max_size=n)), object),
        "y": np.array(draw(rows), np.int8),
        "yhat": np.array(draw(rows), np.int8),
        "score": np.array(draw(st.lists(score, min_size=n, max_size=n)), float),
        "weights": None,
        "score_cap": score_cap or draw(st.sampled_from([4, 100_000])),
    }
    if weighted:
        w = st.floats(0, 50, allow_subnormal=False)
        data["weights"] = np.array(draw(st.lists(w, min_size=n, max_size=n)), float)
    return data


def _take(data, rows):
    out = dict(data)
    for key in ("race", "sex", "y", "yhat", "score", "weights"):
        if data[key] is not None:
            out[key] = data[key][rows]
    return out


def _counts(data):
    return accumulate(
        y=data["y"],
        yhat=data["yhat"],
        sensitive={"race": data["race"], "sex": data["sex"]},
        weights=data["weights"],
        score=data["score"],
        score_cap=data["score_cap"],
    )


def _same(a, b, path="$", abs_tol=0.0):
    """Equal structures; floats equal to REL relative (or abs_tol, for rates near 0)."""
    assert type(a) is type(b) or {type(a), type(b)} <= {int, float}, path
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}", abs_tol)
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]", abs_tol)
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=REL, abs_tol=abs_tol), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _assert_equivalent(left: GroupCounts, right: GroupCounts, weighted: bool):
    if not weighted:
        # integer counts and histograms: bit-for-bit the same, and so are the summaries
        assert left == right
        assert summarise(left, min_group_size=3) == summarise(right, min_group_size=3)
        return
    _same(left.plain_dict(), right.plain_dict())
    for ours, theirs in zip(
        summarise(left, min_group_size=3)["by_attribute"],
        summarise(right, min_group_size=3)["by_attribute"],
        strict=True,
    ):
        _same(ours["groups"], theirs["groups"], abs_tol=1e-12)


@settings(max_examples=150, deadline=None)
@given(datasets(), st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(data, random):
    order = list(range(len(data["y"])))
    random.shuffle(order)
    shuffled = _take(data, np.array(order, dtype=np.int64))
    _assert_equivalent(_counts(data), _counts(shuffled), data["weights"] is not None)


@settings(max_examples=150, deadline=None)
@given(datasets(), st.lists(st.integers(0, 80), max_size=5))
def test_merging_partials_gives_the_whole(data, cuts):
    n = len(data["y"])
    bounds = [0, *sorted(min(c, n) for c in cuts), n]
    parts = [_counts(_take(data, slice(a, b))) for a, b in zip(bounds, bounds[1:], strict=False)]
    merged = functools.reduce(lambda x, y: x + y, parts)
    assert merged.rows == n
    _assert_equivalent(_counts(data), merged, data["weights"] is not None)
    assert sum(parts) == merged  # sum() starts from 0


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_merge_is_associative_and_commutative(draw):
    weighted = draw.draw(st.booleans())
    cap = draw.draw(st.sampled_from([4, 100_000]))
    a, b, c = (_counts(draw.draw(datasets(weighted=weighted, score_cap=cap))) for _ in range(3))
    _assert_equivalent((a + b) + c, a + (b + c), weighted)
    _assert_equivalent(a + b, b + a, weighted)
    before = a.to_dict()
    a.merge(b)
    assert a.to_dict() == before  # merging returns a new object


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_counts_survive_json(data):
    counts = _counts(data)
    again = GroupCounts.from_dict(json.loads(json.dumps(counts.to_dict())))
    assert again == counts
    assert summarise(again) == summarise(counts)


def test_past_the_cap_scores_use_the_grid_and_still_merge_exactly():
    rng = np.random.default_rng(7)
    n = 5000
    data = {
        "race": rng.choice(np.array(["a", "b", "c"], object), n),
        "sex": rng.choice(np.array(["F", "M"], object), n),
        "y": (rng.random(n) < 0.4).astype(np.int8),
        "yhat": (rng.random(n) < 0.4).astype(np.int8),
        "score": rng.random(n),
        "weights": None,
        "score_cap": 1000,
    }
    whole = _counts(data)
    assert whole.score_grid
    parts = [_counts(_take(data, slice(i, i + 700))) for i in range(0, n, 700)]
    assert not parts[0].score_grid  # each part alone stays exact
    assert sum(parts) == whole
    summary = summarise(whole)
    assert summary["roc_auc"] == {"available": True, "approximate": True, "grid_points": 10001}
    assert summary["overall"]["roc_auc"]["approximate"] is True
    exact = summarise(_counts({**data, "score_cap": 100_000}))
    assert abs(summary["overall"]["roc_auc"]["value"] - exact["overall"]["roc_auc"]["value"]) < 1e-3


def test_batches_added_on_the_grid_equal_their_counts_merged():
    """Issue 18: once on the grid, a batch's histogram is added slot by slot (no sort);
    sums (weighted too) and order equal merging each batch's own counts."""
    rng = np.random.default_rng(18)
    batches = []
    for i, n in enumerate([3000, 800, 0, 1500, 40]):
        labels = ["a", "b"] if i < 2 else ["a", "b", "c", None]  # new labels past the grid
        batches.append(
            {
                "race": rng.choice(np.array(labels, object), n),
                "sex": rng.choice(np.array(["F", "M"], object), n),
                "y": (rng.random(n) < 0.4).astype(np.int8),
                "yhat": (rng.random(n) < 0.4).astype(np.int8),
                "score": rng.random(n),
                "weights": rng.integers(0, 7, n) * 0.5,  # sums exact in any order
                "score_cap": 1000,
            }
        )
    running = GroupCounts(attributes=("race", "sex"), weighted=True, scored=True, score_cap=1000)
    for b in batches:
        running.add_batch(
            y=b["y"],
            yhat=b["yhat"],
            sensitive={"race": b["race"], "sex": b["sex"]},
            weights=b["weights"],
            score=b["score"],
        )
        assert running.score_grid
    merged = sum(_counts(b) for b in batches)
    assert running.to_dict() == merged.to_dict()
    assert json.dumps(summarise(running)) == json.dumps(summarise(merged))
