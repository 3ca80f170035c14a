"""The bias summary's numbers equal fairlearn's MetricFrame and disparity functions (#5)."""

import functools
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score

from core.fairness import MISSING_LABEL, accumulate, summarise
from tests.fairness.fairness_data import COMPAS, compas, fairlearn_labels, synthetic

TOL = 1e-12
WEIGHTED = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": functools.partial(precision_score, zero_division=np.nan),
    "accuracy": accuracy_score,
}
DISPARITY_FUNCTIONS = {
    ("demographic_parity", "difference"): demographic_parity_difference,
    ("demographic_parity", "ratio"): demographic_parity_ratio,
    ("equal_opportunity", "difference"): equal_opportunity_difference,
    ("equal_opportunity", "ratio"): equal_opportunity_ratio,
    ("equalized_odds", "difference"): equalized_odds_difference,
    ("equalized_odds", "ratio"): equalized_odds_ratio,
}


def _summary(data, min_group_size=30, **kw):
    counts = accumulate(
        y=data["y"],
        yhat=data["yhat"],
        sensitive={"race": data["race"], "sex": data["sex"]},
        weights=data["weights"],
        score=data["score"],
    )
    summary = summarise(counts, min_group_size=min_group_size, **kw)
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    return summary


def _features(data, columns, rows=slice(None)):
    frame = pd.DataFrame({c: fairlearn_labels(data[c])[rows] for c in columns})
    return frame[columns[0]] if len(columns) == 1 else frame


def _frames(data, columns, rows=slice(None)):
    sw = None if data["weights"] is None else data["weights"][rows]
    params = {name: {"sample_weight": sw} for name in WEIGHTED} if sw is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rates = MetricFrame(
            metrics={**WEIGHTED, "count": count},
            y_true=data["y"][rows],
            y_pred=data["yhat"][rows],
            sensitive_features=_features(data, columns, rows),
            sample_params=params,
        )
        auc = MetricFrame(
            metrics=roc_auc_score,
            y_true=data["y"][rows],
            y_pred=data["score"][rows],
            sensitive_features=_features(data, columns, rows),
            sample_params=None if sw is None else {"sample_weight": sw},
        )
    return rates, auc


# Where a rate's denominator is empty, sklearn's confusion_matrix (under fairlearn's TPR,
# FPR and FNR) reports 0; we report null with a reason, and leave the group out of the
# disparities on that rate (fairlearn leaves out NaN, e.g. precision with zero_division=nan).
CONFUSION_RATES = {"tpr", "fpr", "fnr"}


def _close(ours, theirs, name=None):
    if ours is None:
        return theirs is None or np.isnan(theirs) or (name in CONFUSION_RATES and theirs == 0)
    return abs(ours - theirs) <= TOL


def _block(summary, name):
    return next(b for b in summary["by_attribute"] if b["name"] == name)


def _check_groups(data, summary, columns):
    rates, auc = _frames(data, columns)
    block = _block(summary, " x ".join(columns))
    by_group = rates.by_group[rates.by_group["count"] > 0]
    assert len(block["groups"]) == len(by_group)
    for group in block["groups"]:
        key = group["values"][0] if len(columns) == 1 else tuple(group["values"])
        expected = by_group.loc[key]
        assert group["count"] == expected["count"]
        for name in WEIGHTED:
            metric = group["metrics"][name]
            assert _close(metric["value"], expected[name], name), (key, name)
            assert (metric["value"] is None) == (metric["reason"] is not None)
        assert _close(group["roc_auc"]["value"], auc.by_group.loc[key]), key
    return block


INVOLVED = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("tpr",),
    "equalized_odds": ("tpr", "fpr"),
}


def _check_disparities(data, summary, columns):
    block = _block(summary, " x ".join(columns))
    labels = _features(data, columns)
    if len(columns) > 1:
        labels = labels.apply(lambda r: " | ".join(r), axis=1)

    def rows_for(*metrics):
        defined = {
            g["label"]
            for g in block["groups"]
            if not g["small_group"] and all(g["metrics"][m]["value"] is not None for m in metrics)
        }
        return labels.isin(defined).to_numpy()

    for (disparity, kind), fn in DISPARITY_FUNCTIONS.items():
        rows = rows_for(*INVOLVED[disparity])
        if disparity == "equalized_odds" and (rows != rows_for("tpr")).any():
            # a group lacks one of TPR/FPR: each is compared over the groups that have it
            parts = [_frames(data, columns, rows_for(m))[0] for m in ("tpr", "fpr")]
            if kind == "difference":
                expected = max(parts[0].difference()["tpr"], parts[1].difference()["fpr"])
            else:
                expected = min(parts[0].ratio()["tpr"], parts[1].ratio()["fpr"])
        else:
            sw = None if data["weights"] is None else data["weights"][rows]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = fn(
                    data["y"][rows],
                    data["yhat"][rows],
                    sensitive_features=_features(data, columns, rows),
                    sample_weight=sw,
                )
        assert abs(block["between_groups"][disparity][kind] - expected) <= TOL, disparity
    rows = rows_for("precision")
    rates, _ = _frames(data, columns, rows)
    precision = rates.by_group["precision"]
    pp = block["between_groups"]["predictive_parity"]
    assert abs(pp["difference"] - rates.difference()["precision"]) <= TOL
    assert abs(pp["ratio"] - rates.ratio()["precision"]) <= TOL
    assert pp["max_group"] == _label(precision.idxmax())
    # against the reference ("best" = highest selection rate among compared groups)
    rates, _ = _frames(data, columns, rows_for())
    selection = rates.by_group["selection_rate"]
    best = _label(selection.idxmax())
    assert block["reference"] == {"group": best, "rule": "best", "reason": None}
    for row in block["against_reference"]:
        key = _key(row["group"], columns)
        expected = selection.loc[key] / selection.max()
        assert abs(row["disparate_impact"] - expected) <= TOL
        assert row["four_fifths_rule_breached"] == (expected < 0.8)
        diff = rates.by_group["tpr"].loc[key] - rates.by_group["tpr"].loc[_key(best, columns)]
        assert abs(row["tpr"]["difference"] - diff) <= TOL
    return block


def _label(key):
    return " | ".join(key) if isinstance(key, tuple) else key


def _key(label, columns):
    return tuple(label.split(" | ")) if len(columns) > 1 else label


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("missing", [False, True], ids=["complete", "missing-values"])
def test_synthetic_groups_and_disparities_equal_fairlearn(weights, missing):
    data = synthetic(weights=weights, missing=missing)
    summary = _summary(data)
    assert summary["rows"] == len(data["y"])
    for columns in (["race"], ["sex"], ["race", "sex"]):
        block = _check_groups(data, summary, columns)
        _check_disparities(data, summary, columns)
        assert block["intersection"] == (len(columns) > 1)
    race = _block(summary, "race")
    assert (MISSING_LABEL in [g["label"] for g in race["groups"]]) == missing


def test_small_groups_are_reported_but_not_compared():
    data = synthetic(n=3000, seed=3)
    summary = _summary(data, min_group_size=400)
    race = _block(summary, "race")
    small = [g["label"] for g in race["groups"] if g["small_group"]]
    assert small and set(small) == set(race["excluded_small_groups"])
    assert not set(small) & set(race["compared_groups"])
    assert {r["group"] for r in race["against_reference"]} == set(race["compared_groups"])
    _check_groups(data, summary, ["race"])
    _check_disparities(data, summary, ["race"])
    assert any("fewer than 400 rows" in note for note in summary["notes"])


@pytest.mark.skipif(not COMPAS.exists(), reason="shared COMPAS data not present")
@pytest.mark.parametrize("min_group_size", [30, 0])
def test_compas_equals_fairlearn(min_group_size):
    data = compas()
    assert len(data["y"]) == 6172  # ProPublica's published row count after the filter
    summary = _summary(data, min_group_size=min_group_size)
    for columns in (["race"], ["sex"], ["race", "sex"]):
        _check_groups(data, summary, columns)
        _check_disparities(data, summary, columns)
    race = _block(summary, "race")
    assert ("Native American" in race["excluded_small_groups"]) == (min_group_size == 30)
    overall = summary["overall"]
    assert abs(overall["roc_auc"]["value"] - roc_auc_score(data["y"], data["score"])) <= TOL


@pytest.mark.skipif(not COMPAS.exists(), reason="shared COMPAS data not present")
def test_compas_breaches_follow_the_policy_thresholds():
    data = compas()
    thresholds = {
        "disparate_impact_min": 0.8,
        "equalized_odds_max_diff": 0.1,
        "automated_bias_checks": True,
    }
    summary = _summary(data, reference={"race": "Caucasian"}, thresholds=thresholds)
    assert summary["thresholds_ignored"] == ["automated_bias_checks"]
    race = _block(summary, "race")
    assert race["reference"] == {"group": "Caucasian", "rule": "named", "reason": None}
    rates, _ = _frames(data, ["race"])
    selection = rates.by_group["selection_rate"]
    found = {(b["metric"], tuple(b["groups"])): b for b in summary["breaches"]}
    # ProPublica's finding: Black defendants are labelled higher risk far more often
    aa = next(r for r in race["against_reference"] if r["group"] == "African-American")
    assert (
        abs(aa["disparate_impact"] - selection["African-American"] / selection["Caucasian"]) <= TOL
    )
    assert aa["disparate_impact"] > 1.25
    assert ("disparate_impact", ("African-American", "Caucasian")) not in found
    eo = race["between_groups"]["equalized_odds"]
    breach = found[("equalized_odds", tuple(eo["groups"]))]
    assert breach["value"] == eo["difference"] > 0.1
    assert breach["threshold"] == 0.1 and breach["attribute"] == "race"
    assert "above the policy maximum 0.1" in breach["message"]
    for row in race["against_reference"]:
        key = ("disparate_impact", (row["group"], "Caucasian"))
        assert (key in found) == (row["disparate_impact"] < 0.8)


def test_zero_denominators_are_null_with_a_reason():
    y = np.array([1, 1, 0, 0, 1, 0], dtype=np.int8)
    yhat = np.array([0, 0, 0, 0, 1, 1], dtype=np.int8)
    group = np.array(["a", "a", "a", "a", "b", "b"], dtype=object)
    summary = summarise(accumulate(y=y, yhat=yhat, sensitive={"g": group}), min_group_size=0)
    a = _block(summary, "g")["groups"][0]
    assert a["metrics"]["precision"]["value"] is None
    assert "no predicted positives" in a["metrics"]["precision"]["reason"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(precision_score(y[:4], yhat[:4], zero_division=np.nan))
    pp = _block(summary, "g")["between_groups"]["predictive_parity"]
    assert pp["difference"] is None and pp["undefined_groups"] == ["a"]
    assert "fewer than two groups" in pp["reason"]
