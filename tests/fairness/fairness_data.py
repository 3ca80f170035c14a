"""Synthetic and real (COMPAS) data for the bias-summary tests (issue #5)."""

import csv
import os
from pathlib import Path

import numpy as np

from core.fairness import MISSING_LABEL

COMPAS = (
    Path(
        os.environ.get(
            "GOVERNANCE_SHARED_DATASETS",
            Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets",
        )
    )
    / "compas"
    / "compas_two_year_deidentified.csv"
)

RACES = np.array(["Asian", "Black", "Hispanic", "Other", "White"], dtype=object)


def synthetic(n=6000, seed=0, *, weights=False, missing=False, score=True):
    """Rows whose rates differ by group; optional weights, missing sensitive values.

    Scores are rounded to two decimals so that many rows tie, as real scores do.
    """
    rng = np.random.default_rng(seed)
    race_i = rng.choice(5, n, p=[0.1, 0.3, 0.2, 0.1, 0.3])
    race = RACES[race_i].copy()
    sex = np.where(rng.random(n) < 0.45, "F", "M").astype(object)
    if missing:
        race[rng.random(n) < 0.02] = None
        race[rng.random(n) < 0.02] = np.nan
        race[rng.random(n) < 0.02] = ""
        sex[rng.random(n) < 0.03] = None
    y = (rng.random(n) < 0.25 + 0.08 * race_i).astype(np.int8)
    s = np.clip(0.3 * y + 0.06 * race_i + 0.05 * (sex == "M") + 0.45 * rng.random(n), 0, 1)
    s = np.round(s, 2)
    data = {
        "y": y,
        "yhat": (s >= 0.5).astype(np.int8),
        "race": race,
        "sex": sex,
        "score": s if score else None,
        "weights": rng.gamma(2.0, 1.5, n) if weights else None,
    }
    return data


def fairlearn_labels(values):
    """What our module calls each value, for fairlearn (which rejects missing values)."""
    out = []
    for v in values:
        missing = v is None or v == "" or (isinstance(v, float) and v != v)
        out.append(MISSING_LABEL if missing else str(v))
    return np.array(out, dtype=object)


def compas():
    """ProPublica's filter on the COMPAS file; Medium/High is the positive prediction."""
    race, sex, y, yhat, score = [], [], [], [], []
    with open(COMPAS, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["days_b_screening_arrest"] == "":
                continue
            if not -30 <= int(float(row["days_b_screening_arrest"])) <= 30:
                continue
            if row["is_recid"] == "-1" or row["c_charge_degree"] == "O":
                continue
            if row["score_text"] == "N/A":
                continue
            race.append(row["race"])
            sex.append(row["sex"])
            y.append(int(row["two_year_recid"]))
            yhat.append(int(row["score_text"] in ("Medium", "High")))
            score.append(int(row["decile_score"]) / 10)
    return {
        "race": np.array(race, dtype=object),
        "sex": np.array(sex, dtype=object),
        "y": np.array(y, dtype=np.int8),
        "yhat": np.array(yhat, dtype=np.int8),
        "score": np.array(score),
        "weights": None,
    }
