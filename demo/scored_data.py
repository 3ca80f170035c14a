"""Seeded synthetic scored data for the demo's bias summary when the COMPAS file is absent.

A new clone has no ``../shared/datasets/compas/``; ``demo.fairness`` then attaches
this instead, with the same column mapping, reference groups and options as the COMPAS
extract, so the use case page still shows a bias summary with breaches to discuss.
Pure: numpy and the standard library, no Django.

The data: ``n`` scored credit applications. Each row is an applicant screened on
``screening_date`` (2022-2023) with a risk ``score`` in [0, 1]; ``predicted_high_risk``
is ``score >= 0.5`` (1 = high risk, the adverse decision: declined or referred), and
``two_year_recid`` is the observed outcome (1 = the adverse event happened within two
years; for credit, a default). The columns are named as in the COMPAS extract
(``demo.fairness.COLUMNS``) so that the same summary configuration applies.

The score is a binormal model: ``logit = INTERCEPT + SEPARATION * outcome +
shift(race) + shift(sex) + N(0, 1)``. The separation gives a ROC AUC of about 0.70 within
each group, as COMPAS's. What is planted, and why (each is a kind of disparity that
ProPublica found in COMPAS and that a bias review must catch):

- Different base rates: the adverse outcome is more frequent for African-American
  applicants (52% of men) than Caucasian (41%) and the other groups (29-39%), and 8
  points less frequent for women. Base rates alone are not a disparity of the model,
  but they make the selection rates differ too.
- A score shift against one group: African-American applicants' score logits are
  shifted up by 0.57 whatever their outcome, so at the same threshold their expected
  false-positive rate is about twice Caucasian applicants' (0.42 against 0.22) and their
  true-positive rate higher (0.70 against 0.49): a false-positive-rate gap that
  breaches the policy's equalized-odds maximum (0.1), as COMPAS's does.
- A four-fifths breach in exactly one race group: with the shift and the higher base
  rate, African-American applicants get the favourable prediction (0) about 43% of the
  time against Caucasian applicants' 67%, a disparate impact of about 0.65 (< 0.8).
  Hispanic and Other applicants are shifted slightly down and stay above 0.8.
- Small groups: Asian and Native American applicants are 0.4% and 0.25% of the rows
  (24 and 15 of 6,000), below the summary's minimum group size of 30, so they are
  reported but left out of the comparisons (as COMPAS's 11 Native American defendants
  are); their rates on a handful of rows would otherwise drive the disparities.
- Missing values in a sensitive attribute: 1.5% of the rows have no race (an empty
  cell), which the summary reports as the group "(missing)".
- A control: women have a lower base rate but no score shift, so their false-positive
  rate matches men's and sex shows no breach (in COMPAS too, the FPRs of women and men
  are equal).

Group sizes are exact (largest remainder of the shares below, then shuffled), so the
small and the missing groups have the same size whatever the seed; everything else is
drawn from ``numpy.random.default_rng(seed)``. The same ``n`` and ``seed`` give the same
rows and byte-identical CSV (fixed formatting, no hash-ordered containers).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import NamedTuple

import numpy as np

COLUMNS = (
    "record",
    "race",
    "sex",
    "two_year_recid",
    "predicted_high_risk",
    "score",
    "screening_date",
)
DEFAULT_ROWS = 6_000
DEFAULT_SEED = 20160523  # ProPublica published "Machine Bias" on 23 May 2016
THRESHOLD = 0.5
INTERCEPT = -0.77  # a Caucasian man's negative crosses the threshold 22% of the time
SEPARATION = 0.74  # positives' logits sit this far above negatives': AUC ~ 0.70
START = dt.date(2022, 1, 1)
DAYS = 730


class Group(NamedTuple):
    share: float  # of all rows
    base_rate: float  # RACE: P(outcome 1) for men; SEX: the difference added to it
    shift: float  # added to the score's logit, whatever the outcome


# None: the race is missing (an empty cell in the file).
RACE: dict[str | None, Group] = {
    "African-American": Group(0.500, 0.52, 0.57),
    "Caucasian": Group(0.330, 0.41, 0.00),
    "Hispanic": Group(0.085, 0.39, -0.10),
    "Other": Group(0.0635, 0.37, -0.30),
    "Asian": Group(0.004, 0.29, -0.30),
    "Native American": Group(0.0025, 0.47, 0.30),
    None: Group(0.015, 0.42, 0.10),
}
REFERENCE_RACE = "Caucasian"
PLANTED_FOUR_FIFTHS_BREACH = "African-American"
SMALL_GROUPS = ("Asian", "Native American")
SEX = {"Male": Group(0.81, 0.0, 0.0), "Female": Group(0.19, -0.08, 0.0)}


def _exact_counts(shares: list[float], n: int) -> list[int]:
    """Integer counts summing to n, proportional to shares (largest remainder)."""
    raw = [s * n / sum(shares) for s in shares]
    counts = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def generate_scored_rows(n: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> list[tuple]:
    """``n`` rows of ``COLUMNS``, ordered by screening date then record number.

    Each row is (record: int, race: str | None, sex: str, two_year_recid: int,
    predicted_high_risk: int, score: float with 3 decimals, screening_date: str).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("n must be a positive whole number of rows")
    rng = np.random.default_rng(seed)
    races = list(RACE)
    counts = _exact_counts([RACE[r].share for r in races], n)
    race_index = rng.permutation(np.repeat(np.arange(len(races)), counts))
    sexes = list(SEX)
    sex_index = (rng.random(n) < SEX["Female"].share).astype(np.int64)  # 0 Male, 1 Female
    base = np.array([RACE[r].base_rate for r in races])[race_index]
    base = base + np.array([SEX[s].base_rate for s in sexes])[sex_index]
    outcome = (rng.random(n) < base).astype(np.int64)
    shift = np.array([RACE[r].shift for r in races])[race_index]
    shift = shift + np.array([SEX[s].shift for s in sexes])[sex_index]
    logit = INTERCEPT + SEPARATION * outcome + shift + rng.standard_normal(n)
    score = np.round(1.0 / (1.0 + np.exp(-logit)), 3)
    predicted = (score >= THRESHOLD).astype(np.int64)
    day = np.sort(rng.integers(0, DAYS, size=n))
    return [
        (
            i + 1,
            races[race_index[i]],
            sexes[sex_index[i]],
            int(outcome[i]),
            int(predicted[i]),
            float(score[i]),
            (START + dt.timedelta(days=int(day[i]))).isoformat(),
        )
        for i in range(n)
    ]


def scored_csv(n: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> bytes:
    """The rows as UTF-8 CSV with a header; a missing race is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record, race, sex, y, yhat, score, date in generate_scored_rows(n, seed):
        writer.writerow([record, race or "", sex, y, yhat, f"{score:.3f}", date])
    return out.getvalue().encode()
