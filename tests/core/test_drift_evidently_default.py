"""Evidently's DEFAULT data-drift report (its own choice of test per column and its
own thresholds), reproduced from our profiles by `core.drift_evidently`: identical
per-column tests and verdicts, scores equal to 1e-9, on synthetic data covering every
branch of Evidently's choice and on the COMPAS data (2013 vs 2014 screenings).

Runs Evidently in its own venv (see test_drift_evidently.py for why and how)."""

import json
import subprocess

import numpy as np
import pytest

from core import drift
from core.drift_evidently import evidently_default_verdicts
from tests.core.test_drift import (
    COMPAS_CATEGORICAL,
    COMPAS_NUMERIC,
    compas_by_year,
    needs_compas,
)
from tests.core.test_drift_evidently import RUNNER, _write

TESTS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
}


def run_default(python, tmp_path, reference, current, numerical, categorical):
    _write(tmp_path / "reference.parquet", reference)
    _write(tmp_path / "current.parquet", current)
    settings = {"numerical": numerical, "categorical": categorical, "runs": [{"name": "default"}]}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    proc = subprocess.run(
        [
            python,
            str(RUNNER),
            str(tmp_path / "reference.parquet"),
            str(tmp_path / "current.parquet"),
            str(tmp_path / "settings.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)["runs"]["default"]["columns"]


def assert_same(evidently, reference, current, numerical, categorical):
    ref = drift.profile_build(reference, categorical=categorical, numeric=numerical)
    cur = drift.profile_build(current, categorical=categorical, numeric=numerical)
    ours = evidently_default_verdicts(ref, cur)
    for name in numerical + categorical:
        theirs = evidently[name]
        assert ours[name]["test"] == TESTS.get(theirs["stattest"], theirs["stattest"]), name
        assert ours[name]["drift"] == theirs["drift"], (name, ours[name], theirs)
        assert ours[name]["score"] == pytest.approx(theirs["score"], rel=1e-9, abs=1e-12), name
    return ours


def synthetic(n, seed, shift):
    rng = np.random.default_rng(seed)
    cols = {
        "income": rng.lognormal(10, 0.5, n) * (1 + shift),
        "age": rng.normal(40, 12, n).round() + (8 if shift else 0),
        "tenure": rng.exponential(5, n),
        "children": rng.integers(0, 4, n).astype(float),  # four values
        "flag": rng.integers(0, 2, n).astype(float),  # two values
        "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "channel": rng.choice(
            ["web", "branch"], n, p=[0.8, 0.2] if not shift else [0.55, 0.45]
        ).astype(object),
    }
    cols["region"] = cols["region"].astype(object)
    return cols


NUMERIC = ["income", "age", "tenure", "children", "flag"]
CATEGORICAL = ["region", "channel"]


@pytest.mark.parametrize("n", [600, 5000], ids=["small reference", "large reference"])
def test_synthetic_every_branch(evidently_python, tmp_path, n):
    reference, current = synthetic(n, 1, 0.0), synthetic(n, 2, 0.3)
    evidently = run_default(evidently_python, tmp_path, reference, current, NUMERIC, CATEGORICAL)
    ours = assert_same(evidently, reference, current, NUMERIC, CATEGORICAL)
    tests = {v["test"] for v in ours.values()}
    if n <= 1000:
        assert tests == {"ks", "chisquare", "z"}
    else:
        assert tests == {"wasserstein", "jensenshannon"}
    assert ours["income"]["drift"] and ours["channel"]["drift"]


@needs_compas
def test_compas_2013_vs_2014(evidently_python, tmp_path):
    reference, current = compas_by_year()
    numerical = COMPAS_NUMERIC + ["decile_score"]
    evidently = run_default(
        evidently_python, tmp_path, reference, current, numerical, COMPAS_CATEGORICAL
    )
    assert_same(evidently, reference, current, numerical, COMPAS_CATEGORICAL)
