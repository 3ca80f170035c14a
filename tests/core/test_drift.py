"""Drift statistics, profiles, verdicts, windows and performance (issue #6). Pure: no DB.

scipy (`ks_2samp`, `chi2_contingency`, `association`) and scikit-learn are the references;
PSI and Jensen-Shannon are checked against a plain re-computation written out below.
"""

import csv
import datetime as dt
import json
import math
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from core import drift

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
COMPAS_NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
COMPAS_CATEGORICAL = ["sex", "race", "c_charge_degree", "age_cat"]
needs_compas = pytest.mark.skipif(not COMPAS.exists(), reason=f"COMPAS data not found at {COMPAS}")


def compas_by_year():
    """(2013 screenings, 2014 screenings) as column dicts; decile_score is the score."""
    by_year = {"2013": [], "2014": []}
    with open(COMPAS, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_year[row["screening_date"][:4]].append(row)

    def columns(rows):
        cols = {c: np.array([int(r[c]) for r in rows]) for c in COMPAS_NUMERIC}
        cols.update({c: np.array([r[c] for r in rows], dtype=object) for c in COMPAS_CATEGORICAL})
        cols["decile_score"] = np.array([int(r["decile_score"]) for r in rows])
        return cols

    return columns(by_year["2013"]), columns(by_year["2014"])


def compare(ref_cols, cur_cols, **kwargs):
    thresholds = kwargs.pop("thresholds", None)
    profile = drift.profile_build(ref_cols, **kwargs)
    return drift.drift_compare(profile, cur_cols, thresholds=thresholds)


# --------------------------------------------------------------------------- KS


KS_CASES = [
    # (n_ref, n_cur, decimals for ties or None, shift): scipy's "auto" is exact when
    # max(n1, n2) <= 10,000 (n1 == n2 and n1 != n2 take different exact routines)
    (7, 5, None, 0.0),
    (60, 60, 1, 0.3),
    (800, 800, None, 0.1),
    (3000, 10_000, 1, 0.05),
    (10_000, 10_000, None, 0.02),
    (9_999, 257, 0, 0.5),
    (10_001, 500, 1, 0.0),  # asymptotic from here on
    (20_000, 30_000, 2, 0.03),
    (200, 40_000, None, 0.0),
    (50_000, 50_000, 0, 0.01),
]


@pytest.mark.parametrize(("n1", "n2", "decimals", "shift"), KS_CASES)
def test_ks_equals_scipy_ks_2samp(n1, n2, decimals, shift):
    rng = np.random.default_rng(n1 + n2)
    a = rng.normal(0, 1, n1)
    b = rng.normal(shift, 1, n2)
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    result = compare({"x": a}, {"x": b})["features"]["x"]
    expected = stats.ks_2samp(a, b)
    assert result["status"] == "ok"
    assert result["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12, rel=0)
    assert result["ks_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12, rel=1e-12)
    assert result["ks_method"] == ("exact" if max(n1, n2) <= 10_000 else "asymp")


def test_ks_ties_only_and_identical_samples():
    a = np.array([0, 0, 0, 1, 1, 2] * 50, dtype=float)
    b = np.array([0, 1, 1, 1, 2, 2, 3] * 40, dtype=float)
    d, p, _ = drift.ks_from_counts(*drift.numeric_counts(a)[:2], *drift.numeric_counts(b)[:2])
    expected = stats.ks_2samp(a, b)
    assert (d, p) == pytest.approx((expected.statistic, expected.pvalue), abs=1e-12)
    same = drift.ks_from_counts(*drift.numeric_counts(a)[:2], *drift.numeric_counts(a)[:2])
    assert same[:2] == (0.0, 1.0)


def test_ks_leaves_out_missing_values_as_documented():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 900)
    b = rng.normal(0.2, 1, 700)
    a[::17] = np.nan
    b[::5] = np.nan
    b[3] = np.inf  # non-finite counts as missing too
    result = compare({"x": a}, {"x": b})["features"]["x"]
    expected = stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)])
    assert result["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert result["ks_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12)
    assert result["n_current"] == int(np.isfinite(b).sum())
    assert result["missing_share_current"] == pytest.approx(np.mean(~np.isfinite(b)))
    assert "missing values in the window left out" in result["message"]


# --------------------------------------------------------------------------- chi-square


def _table(ref, cur):
    cats = list(dict.fromkeys([*sorted(set(ref)), *sorted(set(cur))]))
    return cats, np.array([[list(ref).count(c) for c in cats], [list(cur).count(c) for c in cats]])


@pytest.mark.parametrize(
    ("ref_p", "cur_p", "new"),
    [
        ({"M": 0.6, "F": 0.4}, {"M": 0.55, "F": 0.45}, []),  # dof 1: Yates' correction
        ({"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 0.4, "b": 0.3, "c": 0.3}, []),
        ({"a": 0.5, "b": 0.3, "c": 0.2}, {"a": 0.5, "b": 0.3, "c": 0.15, "zz": 0.05}, ["zz"]),
        ({"a": 0.7, "b": 0.3}, {"a": 0.69, "b": 0.3, "new": 0.01}, ["new"]),
    ],
)
def test_chi_square_equals_scipy_chi2_contingency(ref_p, cur_p, new):
    rng = np.random.default_rng(len(ref_p) + len(cur_p))
    ref = rng.choice(list(ref_p), 1500, p=list(ref_p.values())).astype(object)
    cur = rng.choice(list(cur_p), 1100, p=list(cur_p.values())).astype(object)
    result = compare({"g": ref}, {"g": cur})["features"]["g"]
    cats, table = _table(ref, cur)
    expected = stats.chi2_contingency(table)
    assert result["status"] == "ok"
    assert result["chi2_dof"] == expected.dof == len(cats) - 1
    assert result["chi2_statistic"] == pytest.approx(expected.statistic, abs=1e-12, rel=1e-12)
    assert result["chi2_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12, rel=1e-12)
    v = stats.contingency.association(table, method="cramer", correction=False)
    assert result["cramers_v"] == pytest.approx(v, abs=1e-12)
    assert result["new_categories"] == new
    if new:
        assert "New categories unseen in the reference" in result["message"]
        assert all(repr(c) in result["message"] for c in new)


def test_chi_square_yates_correction_is_applied_when_dof_is_one():
    ref, cur = np.array([30, 70]), np.array([45, 55])
    stat, p, dof, _ = drift.chi2_from_counts(ref, cur)
    uncorrected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    corrected = stats.chi2_contingency(np.vstack([ref, cur]))
    assert dof == 1
    assert (stat, p) == pytest.approx((corrected.statistic, corrected.pvalue), abs=1e-12)
    assert stat < uncorrected.statistic


def test_missing_categories_are_their_own_category():
    ref = np.array(["a", None, "b", "", np.nan, "a"] * 100, dtype=object)
    cur = np.array(["a", "b", "b", None] * 100, dtype=object)
    result = compare({"g": ref}, {"g": cur})["features"]["g"]
    assert result["categories"] == ["(missing)", "a", "b"]
    assert result["reference_counts"] == [300, 200, 100]
    assert result["current_counts"] == [100, 100, 200]
    assert result["missing_share_reference"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- PSI, JS


def plain_psi(r, c):
    """PSI written out, with Evidently's fill for empty buckets."""

    def fill(p):
        p = [float(x) for x in p]
        smallest = min(x for x in p if x > 0)
        eps = smallest / 1e6 if smallest <= 1e-4 else 1e-4
        return [x if x > 0 else eps for x in p]

    r, c = fill(r), fill(c)
    return sum((ri - ci) * math.log(ri / ci) for ri, ci in zip(r, c, strict=True))


def plain_js(r, c):
    r = [x / sum(r) for x in r]
    c = [x / sum(c) for x in c]
    m = [(a + b) / 2 for a, b in zip(r, c, strict=True)]

    def kl(p, q):
        return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)

    return math.sqrt((kl(r, m) + kl(c, m)) / 2)


def plain_bins(reference, current, bins=10):
    """Decile edges of the reference (ties removed); right-closed, open-ended bins."""
    edges = sorted(set(np.quantile(reference, [i / bins for i in range(1, bins)]).tolist()))

    def props(values):
        counts = [0] * (len(edges) + 1)
        for v in values:
            counts[sum(1 for e in edges if v > e)] += 1
        return [k / len(values) for k in counts]

    return edges, props(reference), props(current)


@pytest.mark.parametrize("shift", [0.0, 0.25, 1.0, 3.0])
def test_psi_and_js_equal_a_plain_computation(shift):
    rng = np.random.default_rng(11)
    a = np.round(rng.gamma(2.0, 2.0, 3000), 1)
    b = np.round(rng.gamma(2.0, 2.0, 2000) + shift, 1)
    result = compare({"x": a}, {"x": b})["features"]["x"]
    edges, r, c = plain_bins(a, b)
    profile = drift.profile_build({"x": a})
    assert profile.features["x"].edges.tolist() == edges
    assert result["reference_proportions"] == pytest.approx(r, abs=1e-15)
    assert result["current_proportions"] == pytest.approx(c, abs=1e-15)
    assert result["psi"] == pytest.approx(plain_psi(r, c), rel=1e-12, abs=1e-15)
    assert result["js_distance"] == pytest.approx(plain_js(r, c), rel=1e-12, abs=1e-15)


def test_psi_fills_empty_buckets_as_evidently_does():
    # an empty window bucket next to large ones: filled with 1e-4
    assert drift.psi(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(
        plain_psi([0.5, 0.5], [1.0, 0.0])
    )
    # the smallest non-empty share is tiny: the fill is that share / 1e6
    r, c = np.array([0.99995, 0.00005, 0.0]), np.array([0.4, 0.3, 0.3])
    assert drift.psi(r, c) == pytest.approx(plain_psi(r, c), rel=1e-12)
    assert drift.psi(c, c) == 0.0


def test_categorical_psi_and_js_cover_new_categories():
    ref = np.array(["a"] * 600 + ["b"] * 400, dtype=object)
    cur = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 200, dtype=object)
    result = compare({"g": ref}, {"g": cur})["features"]["g"]
    assert result["categories"] == ["a", "b", "c"]
    r, c = [0.6, 0.4, 0.0], [0.5, 0.3, 0.2]
    assert result["psi"] == pytest.approx(plain_psi(r, c), rel=1e-12)
    assert result["js_distance"] == pytest.approx(plain_js(r, c), rel=1e-12)
    assert result["drift"] is True  # PSI about 1.4 with a 20% new category


def test_quantile_edges_equal_numpy_quantile_and_heavy_ties_are_merged():
    rng = np.random.default_rng(5)
    x = rng.normal(size=12_345)
    q = np.linspace(0, 1, 11)[1:-1]
    profile = drift.profile_build({"x": x})
    assert np.array_equal(profile.features["x"].edges, np.unique(np.quantile(x, q)))
    z = np.where(rng.random(5000) < 0.95, 0.0, 1.0)
    zeros = drift.profile_build({"z": z}).features["z"]
    assert zeros.edges.tolist() == [0.0]  # nine deciles at 0 become one edge
    # right-closed bins: the zeros fill (-inf, 0], the ones (0, inf)
    assert zeros.proportions.tolist() == [np.mean(z == 0), np.mean(z == 1)]


# --------------------------------------------------------------------------- profiles


def _mixed(n, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(0, 1, n), 2)
    x[rng.random(n) < 0.05] = np.nan
    g = rng.choice(np.array(["a", "b", "c", None], dtype=object), n)
    return {"x": x, "k": rng.integers(0, 4, n), "g": g}


def test_profile_merge_equals_the_whole_data_profile():
    whole = _mixed(9000, 1)
    parts = [
        {k: v[s] for k, v in whole.items()}
        for s in (slice(0, 1000), slice(1000, 6500), slice(6500, 9000))
    ]
    merged = drift.profile_merge(drift.profile_build(p) for p in parts)
    assert merged.to_dict() == drift.profile_build(whole).to_dict()
    assert merged.rows == 9000
    x = merged.features["x"]
    assert (
        np.repeat(x.values, x.counts).tolist()
        == np.sort(whole["x"][~np.isnan(whole["x"])]).tolist()
    )
    assert x.missing == int(np.isnan(whole["x"]).sum())


def test_profile_round_trips_through_json_and_is_compact():
    cols = _mixed(20_000, 2)
    profile = drift.profile_build(cols)
    text = json.dumps(profile.to_dict())
    again = drift.Profile.from_dict(json.loads(text))
    assert again.to_dict() == profile.to_dict()
    current = _mixed(3000, 3)
    assert drift.drift_compare(again, current) == drift.drift_compare(profile, current)
    # 20,000 values rounded to 2 decimals: a few hundred distinct values, not 20,000
    assert len(profile.features["x"].values) < 1000
    with pytest.raises(ValueError, match="schema version"):
        drift.Profile.from_dict({**profile.to_dict(), "schema_version": 99})


def test_window_batches_give_the_same_result_as_one_array():
    ref = drift.profile_build(_mixed(5000, 4))
    cur = _mixed(4000, 5)
    batches = [{k: v[:1500] for k, v in cur.items()}, {k: v[1500:] for k, v in cur.items()}]
    assert drift.drift_compare(ref, batches) == drift.drift_compare(ref, cur)


# --------------------------------------------------------------------------- verdicts


def test_injected_drift_in_three_of_ten_features_flags_exactly_those():
    rng = np.random.default_rng(42)
    ref = {f"f{i}": rng.normal(5, 2, 20_000) for i in range(10)}
    cur = {f"f{i}": rng.normal(5, 2, 15_000) for i in range(10)}
    for name in ("f2", "f5", "f8"):
        cur[name] = cur[name] + 1.0  # half a standard deviation
    result = compare(ref, cur)
    assert result["drifted"] == ["f2", "f5", "f8"]
    for name in ("f2", "f5", "f8"):
        r = result["features"][name]
        assert r["ks_pvalue"] < 0.05 and r["ks_statistic"] >= 0.1
        assert any(reason.startswith("KS p = ") for reason in r["reasons"])
    assert result["problems"] == []


def test_minimum_effect_keeps_tiny_but_significant_shifts_out():
    rng = np.random.default_rng(8)
    ref = {"x": rng.normal(0, 1, 200_000)}
    cur = {"x": rng.normal(0.05, 1, 200_000)}  # significant at this size, D about 0.02
    result = compare(ref, cur)["features"]["x"]
    assert result["ks_pvalue"] < 1e-10
    assert result["ks_statistic"] < 0.1
    assert result["drift"] is False
    loose = drift.DriftThresholds(ks_min_effect=0.0)
    assert compare(ref, cur, thresholds=loose)["features"]["x"]["drift"] is True


def test_thresholds_from_policy_and_validation():
    t = drift.DriftThresholds.from_policy({"psi_max": 0.1, "cadence": "weekly"})
    assert t == drift.DriftThresholds(psi_max=0.1)
    assert drift.DriftThresholds.from_policy(None) == drift.DriftThresholds()
    with pytest.raises(ValueError, match="alpha"):
        drift.DriftThresholds(alpha=1.5)
    with pytest.raises(ValueError, match="psi_max"):
        drift.DriftThresholds(psi_max=-1)


def test_prediction_drift_uses_the_same_tests():
    rng = np.random.default_rng(9)
    ref = {"x": rng.normal(0, 1, 4000), "score": rng.beta(2, 5, 4000)}
    cur = {"x": rng.normal(0, 1, 3000), "score": rng.beta(5, 2, 3000)}
    result = drift.drift_compare(drift.profile_build(ref), cur, prediction="score")
    assert "score" not in result["features"]
    pred = result["prediction"]
    expected = stats.ks_2samp(ref["score"], cur["score"])
    assert pred["ks_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12)
    assert result["prediction_drift"] is True
    assert result["drifted"] == []


@needs_compas
def test_compas_2013_vs_2014_statistics_and_verdicts():
    reference, current = compas_by_year()
    result = compare(reference, current, categorical=COMPAS_CATEGORICAL)
    features = result["features"]
    for name in COMPAS_NUMERIC:
        expected = stats.ks_2samp(reference[name], current[name])
        assert features[name]["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
        assert features[name]["ks_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12)
        assert features[name]["ks_method"] == "exact"  # 5,111 vs 2,103 screenings
    for name in COMPAS_CATEGORICAL:
        _, table = _table(reference[name], current[name])
        expected = stats.chi2_contingency(table)
        assert features[name]["chi2_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12)
    # Significant (p < 0.05) but small: age (D 0.065), prior offences (D 0.036), the score
    # (D 0.050), sex and age group (Cramer's V 0.03, 0.07). Under the minimum effect
    # nothing has drifted.
    significant = {
        n for n, r in features.items() if (r.get("ks_pvalue") or r.get("chi2_pvalue")) < 0.05
    }
    assert significant == {"age", "priors_count", "decile_score", "sex", "age_cat"}
    assert result["drifted"] == []
    assert all(r["psi"] < 0.05 for r in features.values())


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_give_per_feature_statuses_and_never_stop_the_others():
    rng = np.random.default_rng(12)
    n = 2000
    reference = {
        "ok": rng.normal(0, 1, n),
        "gone": rng.normal(0, 1, n),
        "empty_now": rng.normal(0, 1, n),
        "constant": np.full(n, 3.0),
        "text": rng.normal(0, 1, n),
        "colour": rng.choice(np.array(["red", "blue"], dtype=object), n),
        "never": np.full(n, np.nan),
    }
    current = {
        "ok": rng.normal(2, 1, 1500),
        "empty_now": np.full(1500, np.nan),
        "constant": np.full(1500, 3.0),
        "text": np.array(["1.5", "oops"] * 750, dtype=object),
        "colour": rng.choice(np.array(["red", "blue", "green"], dtype=object), 1500),
        "never": rng.normal(0, 1, 1500),
        "extra": rng.normal(0, 1, 1500),
    }
    result = compare(reference, current)
    f = result["features"]
    assert f["ok"]["status"] == "ok" and f["ok"]["drift"] is True
    assert f["gone"]["status"] == "missing_in_window"
    assert "Missing in the window" in f["gone"]["message"]
    assert f["empty_now"]["status"] == "all_missing"
    assert "All 1,500 values are missing in the window" in f["empty_now"]["message"]
    assert f["never"]["status"] == "all_missing"
    assert "missing in the reference" in f["never"]["message"]
    assert f["constant"]["status"] == "ok" and f["constant"]["drift"] is False
    assert f["constant"]["ks_pvalue"] == 1.0
    assert "constant" in f["constant"]["message"]
    assert f["text"]["status"] == "invalid"
    assert "expected numbers, got 'oops'" in f["text"]["message"]
    assert f["colour"]["status"] == "ok" and f["colour"]["new_categories"] == ["green"]
    assert f["extra"]["status"] == "not_in_reference"
    assert "not in the reference profile" in f["extra"]["message"]
    assert {p["feature"] for p in result["problems"]} == {
        "gone",
        "empty_now",
        "never",
        "text",
        "extra",
    }
    assert all(r["drift"] is None for n, r in f.items() if r["status"] != "ok")


def test_a_window_with_no_rows():
    ref = drift.profile_build({"x": np.arange(100.0), "g": np.array(["a", "b"] * 50)})
    for window in ({"x": np.array([]), "g": np.array([], dtype=object)}, {}, []):
        result = drift.drift_compare(ref, window)
        assert result["rows"] == 0
        assert {r["status"] for r in result["features"].values()} == {"no_rows"}
        assert all(r["message"] == "The window has no rows." for r in result["features"].values())


def test_columns_of_different_lengths_are_reported_not_raised():
    ref = drift.profile_build({"x": np.arange(100.0), "y": np.arange(100.0)})
    result = drift.drift_compare(ref, {"x": np.arange(50.0), "y": np.arange(40.0)})
    assert result["features"]["x"]["status"] == "ok"
    assert result["features"]["y"]["status"] == "invalid"
    assert "40 rows where other columns have 50" in result["features"]["y"]["message"]
    bad_ref = drift.profile_build({"x": np.arange(10.0), "t": np.array(["a"] * 10)}, numeric=["t"])
    assert "expected numbers" in bad_ref.problems["t"]
    assert (
        drift.drift_compare(bad_ref, {"x": np.arange(5.0), "t": np.arange(5.0)})["features"]["t"][
            "status"
        ]
        == "invalid"
    )


def test_one_bad_window_does_not_stop_the_others():
    ref = drift.profile_build({"x": np.arange(1000.0)})
    windows = [
        {"x": np.arange(500.0)},
        {"x": np.array(["x"] * 5, dtype=object)},
        {},
        {"x": np.arange(500.0) + 600},
    ]
    statuses = [drift.drift_compare(ref, w)["features"]["x"]["status"] for w in windows]
    assert statuses == ["ok", "invalid", "no_rows", "ok"]


# --------------------------------------------------------------------------- windows


NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def test_daily_and_weekly_windows_in_utc():
    paris = ZoneInfo("Europe/Paris")
    stamps = [
        dt.datetime(2025, 1, 6, 0, 30, tzinfo=paris),  # 2025-01-05 23:30 UTC, a Sunday
        dt.datetime(2025, 1, 6, 12, 0, tzinfo=dt.UTC),  # Monday
        dt.datetime(2025, 1, 8, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 13, 0, 0, tzinfo=dt.UTC),  # next Monday
    ]
    daily = drift.window_split(stamps, "daily", now=NOW)
    assert [w.label for w in daily.windows] == [
        "2025-01-05",
        "2025-01-06",
        "2025-01-07",
        "2025-01-08",
        "2025-01-09",
        "2025-01-10",
        "2025-01-11",
        "2025-01-12",
        "2025-01-13",
    ]
    assert [w.rows.tolist() for w in daily.windows if w.rows.size] == [[0], [1], [2], [3]]
    assert daily.windows[2].rows.size == 0  # an empty day is a window with no rows
    weekly = drift.window_split(stamps, "weekly", now=NOW)
    assert [(w.label, w.rows.tolist()) for w in weekly.windows] == [
        ("2024-12-30", [0]),
        ("2025-01-06", [1, 2]),
        ("2025-01-13", [3]),
    ]
    assert weekly.windows[1].end - weekly.windows[1].start == np.timedelta64(7, "D")
    assert daily.errors == [] and daily.rejected.size == 0


def test_numpy_datetime64_is_taken_as_utc_and_strings_need_an_offset():
    ts = np.array(["2025-01-01T23:59:59", "2025-01-02T00:00:00"], dtype="datetime64[ns]")
    assert [w.rows.tolist() for w in drift.window_split(ts, "daily", now=NOW).windows] == [[0], [1]]
    iso = ["2025-01-01T23:30:00-01:00", "2025-01-02T10:00:00Z"]
    assert [w.rows.tolist() for w in drift.window_split(iso, "daily", now=NOW).windows] == [[0, 1]]


def test_naive_timestamps_are_rejected_with_a_readable_error():
    naive = [dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 2)]
    with pytest.raises(
        drift.DriftInputError, match=r"1 timestamps have no time zone \(first at row 2\)"
    ):
        drift.window_split(naive, "daily", now=NOW)
    with pytest.raises(drift.DriftInputError, match="no time zone"):
        drift.window_split(["2025-01-01T10:00:00"], "daily", now=NOW)
    with pytest.raises(drift.DriftInputError, match="Unknown cadence 'hourly'"):
        drift.window_split(naive, "hourly", now=NOW)


def test_future_and_missing_timestamps_are_left_out_and_reported():
    stamps = np.array(
        ["2025-02-27T10:00", "2031-01-01T00:00", "NaT", "2025-02-28T10:00"], dtype="datetime64[ns]"
    )
    split = drift.window_split(stamps, "daily", now=NOW)
    assert split.rejected.tolist() == [1, 2]
    assert [w.rows.tolist() for w in split.windows] == [[0], [3]]
    assert split.errors == [
        "1 rows have no timestamp (first at row 3).",
        "1 timestamps are in the future (first at row 2: 2031-01-01T00:00:00Z); "
        "those rows were left out.",
    ]
    only_future = drift.window_split(stamps[1:2], "weekly", now=NOW)
    assert only_future.windows == [] and only_future.rejected.tolist() == [0]


@needs_compas
def test_compas_screenings_split_into_weekly_windows():
    dates = []
    with open(COMPAS, newline="", encoding="utf-8") as f:
        dates = [r["screening_date"] for r in csv.DictReader(f)]
    ts = np.array(dates, dtype="datetime64[D]").astype("datetime64[ns]")
    split = drift.window_split(ts, "weekly", now=NOW)
    assert sum(w.rows.size for w in split.windows) == len(dates)
    assert all(w.start.astype("datetime64[D]").item().weekday() == 0 for w in split.windows)
    for w in split.windows:
        assert np.all((ts[w.rows] >= w.start) & (ts[w.rows] < w.end))


# --------------------------------------------------------------------------- performance


def test_performance_equals_scikit_learn_overall_and_per_group():
    rng = np.random.default_rng(21)
    n = 5000
    group = rng.choice(np.array(["A", "B", "C"], dtype=object), n)
    y = (rng.random(n) < 0.3 + 0.1 * (group == "B")).astype(float)
    score = np.round(np.clip(0.4 * y + 0.6 * rng.random(n), 0, 1), 2)
    yhat = (score >= 0.5).astype(int)
    y[rng.random(n) < 0.1] = np.nan  # outcomes not arrived yet
    result = drift.performance(y, yhat, score=score, groups={"group": group})
    known = ~np.isnan(y)
    assert result["rows_with_outcome"] == int(known.sum())

    def check(block, mask):
        yt, yp, s = y[mask].astype(int), yhat[mask], score[mask]
        assert block["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp), abs=1e-12)
        assert block["precision"] == pytest.approx(skm.precision_score(yt, yp), abs=1e-12)
        assert block["recall"] == pytest.approx(skm.recall_score(yt, yp), abs=1e-12)
        assert block["roc_auc"] == pytest.approx(skm.roc_auc_score(yt, s), abs=1e-12)

    check(result["overall"], known)
    for label in ("A", "B", "C"):
        check(result["groups"]["group"][label], known & (group == label))


def test_performance_undefined_metrics_and_no_outcomes():
    y = np.array([0, 0, 0, 0])
    result = drift.performance(y, np.array([0, 0, 0, 0]), score=np.array([0.1, 0.2, 0.3, 0.4]))
    assert result["overall"]["accuracy"] == 1.0
    assert result["overall"]["precision"] is None and result["overall"]["roc_auc"] is None
    assert "precision undefined: no predicted positives" in result["overall"]["notes"]
    none = drift.performance(np.full(3, np.nan), np.array([1, 0, 1]))
    assert none["overall"] is None
    assert none["message"] == "No rows with an outcome in this window."
    with pytest.raises(ValueError, match="outcome must be 0 or 1; row 2 is 2"):
        drift.performance(np.array([0, 2]), np.array([0, 1]))


def test_goodness_of_fit_option_is_evidentlys_chisquare():
    ref = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 200 + [None] * 50, dtype=object)
    cur = np.array(["a"] * 420 + ["b"] * 330 + ["c"] * 250 + [None] * 5, dtype=object)
    gof = drift.DriftThresholds(chi2_test="goodness_of_fit")
    result = compare({"g": ref}, {"g": cur}, thresholds=gof)["features"]["g"]
    r, c = np.array([500, 300, 200]), np.array([420, 330, 250])  # missing left out
    expected = stats.chisquare(c, r * c.sum() / r.sum())
    assert result["chi2_test"] == "goodness_of_fit" and result["chi2_dof"] == 2
    assert result["chi2_pvalue"] == pytest.approx(expected.pvalue, abs=1e-12, rel=1e-12)
    homogeneity = stats.chi2_contingency(np.vstack([r, c])).pvalue
    assert result["chi2_pvalue"] < homogeneity  # the reference taken as exact
    new = compare({"g": ref}, {"g": np.append(cur, "z")}, thresholds=gof)["features"]["g"]
    assert new["chi2_pvalue"] == 0.0 and new["new_categories"] == ["z"]
    with pytest.raises(ValueError, match="chi2_test"):
        drift.DriftThresholds(chi2_test="g-test")


def test_past_the_distinct_value_cap_values_are_pooled_and_the_ks_stays_close(monkeypatch):
    """Memory stays bounded: beyond MAX_DISTINCT distinct values a numeric column is
    pooled into equal-mass buckets; D moves by less than about one bucket's mass."""
    monkeypatch.setattr(drift, "MAX_DISTINCT", 1000)
    rng = np.random.default_rng(5)
    ref_values, cur_values = rng.normal(0, 1, 60_000), rng.normal(0.05, 1, 40_000)
    halves = [drift.profile_build({"x": part}) for part in np.split(ref_values, 3)]
    ref = drift.profile_merge(halves)
    feature = ref.features["x"]
    assert feature.approximate and len(feature.values) <= 1000 and feature.n == 60_000
    again = drift.Profile.from_dict(json.loads(json.dumps(ref.to_dict())))
    assert again.features["x"].approximate
    result = drift.drift_compare(ref, {"x": cur_values})["features"]["x"]
    exact = stats.ks_2samp(ref_values, cur_values)
    assert abs(result["ks_statistic"] - exact.statistic) < 2 / 1000
    assert "approximate" in result["message"]
