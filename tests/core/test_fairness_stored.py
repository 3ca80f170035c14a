"""The stored form of bias counts (issue 18): arrays packed (schema 2), the lists stored
before (schema 1) still read, both to the same counts and the same summary."""

import base64
import json

import numpy as np
import pytest

from core.fairness import GroupCounts, accumulate, summarise
from core.fairness.stored import pack, unpack

ROWS = {
    "y": [0, 1, 1, 0, 1, 0, 0, 1],
    "yhat": [0, 1, 0, 0, 1, 1, 0, 1],
    "sensitive": {
        "race": ["b", "a", "b", None, "a", "a", "b", "b"],
        "sex": ["F", "M", "M", "F", "F", "M", "F", "M"],
    },
    "weights": [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 2.0, 0.25],
    "score": [0.1, 0.9, 0.35, 0.2, 0.8, 0.6, 0.35, 0.7],
}
# GroupCounts.to_dict() of ROWS as summaries and their shares stored it before issue 18
STORED_BEFORE = {
    "schema_version": 1,
    "attributes": ["race", "sex"],
    "labels": [["(missing)", "a", "b"], ["F", "M"]],
    "weighted": True,
    "cells": [[0, 0], [1, 0], [1, 1], [2, 0], [2, 1]],
    "n": [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 1], [2, 0, 0, 0], [0, 0, 1, 1]],
    "w": [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.5], [0.0, 1.0, 0.0, 2.0]]
    + [[3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.25]],
    "w2": [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.25], [0.0, 1.0, 0.0, 4.0]]
    + [[5.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.25, 0.0625]],
    "scored": True,
    "score_cap": 100000,
    "score_grid": False,
    "h_cells": [[0, 0], [1, 0], [1, 1], [1, 1], [2, 0], [2, 0], [2, 1], [2, 1]],
    "h_score": [0.2, 0.8, 0.6, 0.9, 0.1, 0.35, 0.35, 0.7],
    "h_n": [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [1, 0], [0, 1], [0, 1]],
    "h_w": [[1.0, 0.0], [0.0, 1.5], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]
    + [[2.0, 0.0], [0.0, 0.5], [0.0, 0.25]],
}


def _grid_counts(weighted: bool) -> GroupCounts:
    rng = np.random.default_rng(18)
    n = 20_000
    return accumulate(
        y=(rng.random(n) < 0.4).astype(np.int8),
        yhat=(rng.random(n) < 0.5).astype(np.int8),
        sensitive={
            "race": rng.choice(np.array(["a", "b", "c", None], object), n),
            "sex": rng.choice(np.array(["F", "M"], object), n),
        },
        weights=rng.random(n) * 3 if weighted else None,
        score=rng.random(n),
        score_cap=1000,
    )


def _through_json(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))


def test_counts_stored_before_read_to_the_same_counts_and_summary():
    counts = accumulate(**ROWS)
    before = GroupCounts.from_dict(STORED_BEFORE)
    assert before == counts
    assert before.plain_dict() == STORED_BEFORE
    assert summarise(before) == summarise(counts)
    # stored again, they take the packed form and read back equal
    assert GroupCounts.from_dict(_through_json(before.to_dict())) == counts


@pytest.mark.parametrize("weighted", [False, True])
def test_counts_are_stored_packed_and_read_back_exactly(weighted):
    counts = _grid_counts(weighted)
    assert counts.score_grid and len(counts.h_score) > 1000
    stored = _through_json(counts.to_dict())
    assert stored["schema_version"] == 2
    for key in ("cells", "n", "h_cells", "h_n") + (("w", "w2", "h_w") if weighted else ()):
        assert set(stored[key]) == {"dtype", "shape", "data"}, key
    # grid scores are kept as their grid points (integers), exact scores as float64
    assert "h_score" not in stored and stored["h_grid"]["dtype"] == "<u2"
    again = GroupCounts.from_dict(stored)
    assert again == counts
    assert np.array_equal(again.h_score, counts.canonical().h_score)
    assert again.plain_dict() == counts.plain_dict()  # every float to the last bit
    assert json.dumps(summarise(again)) == json.dumps(summarise(counts))
    plain = json.dumps(counts.plain_dict())
    assert len(json.dumps(stored)) < len(plain)
    # the lists of schema 1 read to the same counts
    assert GroupCounts.from_dict(_through_json(counts.plain_dict())) == counts


def test_exact_scores_and_empty_counts_round_trip():
    exact = accumulate(**ROWS)
    stored = _through_json(exact.to_dict())
    assert stored["h_score"]["dtype"] == "<f8" and "h_grid" not in stored
    assert GroupCounts.from_dict(stored) == exact
    empty = GroupCounts(attributes=("race",), scored=True)
    assert GroupCounts.from_dict(_through_json(empty.to_dict())) == empty
    unscored = accumulate(y=[0, 1], yhat=[1, 1], sensitive={"g": ["a", "b"]})
    stored = _through_json(unscored.to_dict())
    assert "h_cells" not in stored and GroupCounts.from_dict(stored) == unscored


def test_equal_counts_store_equal_text_whatever_the_order_of_rows():
    order = np.random.default_rng(5).permutation(8)

    def rows(i):
        return {
            "y": [ROWS["y"][j] for j in i],
            "yhat": [ROWS["yhat"][j] for j in i],
            "sensitive": {a: [v[j] for j in i] for a, v in ROWS["sensitive"].items()},
            "weights": [ROWS["weights"][j] for j in i],
            "score": [ROWS["score"][j] for j in i],
        }

    shuffled = accumulate(**rows(order))
    assert json.dumps(shuffled.to_dict()) == json.dumps(accumulate(**ROWS).to_dict())
    first, second = accumulate(**rows(order[:3])), accumulate(**rows(order[3:]))
    assert json.dumps((first + second).to_dict()) == json.dumps((second + first).to_dict())


def test_integers_pack_in_the_narrowest_type_that_holds_them():
    assert pack(np.array([0, 255]))["dtype"] == "<u1"
    assert pack(np.array([0, 256]))["dtype"] == "<u2"
    assert pack(np.array([70_000]))["dtype"] == "<u4"
    assert pack(np.array([-1, 3]))["dtype"] == "<i8"
    assert pack(np.array([2**40]))["dtype"] == "<i8"
    assert pack(np.zeros((0, 2), np.int64)) == {"dtype": "<u1", "shape": [0, 2], "data": ""}
    values = np.array([[3, 2**33], [0, 1]])
    assert np.array_equal(unpack(_through_json(pack(values)), np.int64, 2), values)
    floats = np.array([0.1, -0.0, 1e-300, 5e-324])
    back = unpack(pack(floats), np.float64)
    assert back.tobytes() == floats.tobytes()


@pytest.mark.parametrize(
    "damage",
    [
        {"dtype": "<c16"},
        {"dtype": "object"},
        {"shape": [3]},
        {"shape": [2, 3]},
        {"shape": [2, -2]},
        {"shape": [1, True]},
        {"data": "not base64!"},
        {"data": base64.b64encode(b"\x00" * 3).decode()},
        {"extra": 1},
    ],
)
def test_damaged_packed_arrays_are_refused(damage):
    data = accumulate(**ROWS).to_dict()
    data["n"] = {**data["n"], **damage}
    with pytest.raises(ValueError):
        GroupCounts.from_dict(data)


def test_an_unknown_schema_version_is_refused():
    with pytest.raises(ValueError, match="schema version"):
        GroupCounts.from_dict({**STORED_BEFORE, "schema_version": 3})
