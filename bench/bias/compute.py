"""1. Compute in memory: the same metrics and groups by `core.fairness`, by Aequitas and
by fairlearn, timed on the same synthetic rows, and how far their rates agree."""

from __future__ import annotations

import functools
import json
import warnings

import numpy as np

from bench.bias.data import RACES, REFERENCE, SEXES, synthetic, timed
from core.fairness import EncodedColumn, accumulate, summarise

# The same metrics and groups for the three tools, race (5 groups) against "White":
# count, base rate, selection rate, TPR, FPR, FNR, precision, accuracy per group; the
# between-group difference and ratio of selection rate, TPR and FPR (demographic parity,
# equal opportunity, equalized odds); every rate's ratio to the reference group
# (disparate impact). Ours adds Wilson intervals, predictive parity and the small-group
# flags; Aequitas adds TNR, FOR, FDR, NPV, PPR and prevalence. Neither gets scores (no
# ROC AUC: Aequitas has none); ROC AUC is timed separately for ours.
COMPUTE_METRICS = (
    "count, base rate, selection rate, TPR, FPR, FNR, precision, accuracy per group; "
    "difference and ratio between groups (demographic parity, equal opportunity, "
    "equalized odds); each rate's ratio to the reference group 'White'"
)


def ours_native(data: dict, attributes: tuple[str, ...], *, score: bool = False) -> str:
    """From dictionary codes (what the Parquet and CSV readers deliver) to the JSON."""
    names = {"race": RACES, "sex": SEXES}
    sensitive = {a: EncodedColumn(data[a], names[a]) for a in attributes}
    counts = accumulate(
        y=data["label"],
        yhat=data["pred"],
        sensitive=sensitive,
        score=data["score"] if score else None,
    )
    reference = {"race": REFERENCE} if "race" in attributes else "best"
    return json.dumps(summarise(counts, reference=reference), allow_nan=False)


def ours_from_strings(frame, attributes: tuple[str, ...]) -> str:
    """From the same object-string DataFrame the other tools get (encoded by pandas)."""
    import pandas as pd

    sensitive = {}
    for a in attributes:
        codes, uniques = pd.factorize(frame[a].to_numpy(), use_na_sentinel=True)
        sensitive[a] = EncodedColumn(codes, list(uniques))
    counts = accumulate(
        y=frame["label_value"].to_numpy(), yhat=frame["score"].to_numpy(), sensitive=sensitive
    )
    reference = {"race": REFERENCE} if "race" in attributes else "best"
    return json.dumps(summarise(counts, reference=reference), allow_nan=False)


def aequitas_run(frame, attributes: list[str], reference: dict[str, str]):
    """Aequitas: every group's confusion metrics and their ratios to the reference."""
    from aequitas.bias import Bias
    from aequitas.group import Group

    xtab, _ = Group().get_crosstabs(frame, attr_cols=attributes)
    return Bias().get_disparity_predefined_groups(xtab, frame, reference)


def _base_rate(y_true, y_pred) -> float:
    return float(np.mean(y_true))


def fairlearn_run(frame):
    """fairlearn: one MetricFrame by race, its difference/ratio and ratios to 'White'."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "count": count,
        "base_rate": _base_rate,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "precision": functools.partial(precision_score, zero_division=np.nan),
        "accuracy": accuracy_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=metrics,
            y_true=frame["label_value"],
            y_pred=frame["score"],
            sensitive_features=frame["race"],
        )
        by_group = mf.by_group
        between = {"difference": mf.difference(), "ratio": mf.ratio()}
        against = by_group.div(by_group.loc[REFERENCE])
    return by_group, between, against


def _check_agreement(summary_json: str, aequitas_df, fairlearn_result) -> float:
    """Largest absolute difference between our per-group rates and the other tools'."""
    summary = json.loads(summary_json)
    block = next(b for b in summary["by_attribute"] if b["name"] == "race")
    worst = 0.0
    pairs = {"selection_rate": "pprev", "tpr": "tpr", "fpr": "fpr", "precision": "precision"}
    for group in block["groups"]:
        label = group["values"][0]
        row = aequitas_df[
            (aequitas_df["attribute_name"] == "race") & (aequitas_df["attribute_value"] == label)
        ].iloc[0]
        for ours, theirs in pairs.items():
            worst = max(worst, abs(group["metrics"][ours]["value"] - float(row[theirs])))
        if fairlearn_result is not None:
            fl = fairlearn_result[0].loc[label]
            for name in ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"):
                worst = max(worst, abs(group["metrics"][name]["value"] - float(fl[name])))
    return worst


def bench_compute(
    rows: int, seed: int, repeats: int, with_fairlearn: bool, fairlearn_repeats: int = 3
) -> list[dict]:
    import aequitas.bias  # noqa: F401  (imported here so that no timing includes imports)
    import aequitas.group  # noqa: F401
    import fairlearn.metrics  # noqa: F401
    import pandas as pd
    import sklearn.metrics  # noqa: F401

    data = synthetic(rows, seed)
    race = np.array(RACES, dtype=object)[data["race"]]
    sex = np.array(SEXES, dtype=object)[data["sex"]]
    # Aequitas's input: 'score' is the 0/1 prediction, 'label_value' the outcome, and
    # sensitive attributes as object (string) columns, which it requires.
    frame = pd.DataFrame(
        {"score": data["pred"], "label_value": data["label"], "race": race, "sex": sex}
    )
    out = []

    def add(case, tool, seconds, times, detail):
        out.append(
            {
                "case": case,
                "rows": rows,
                "tool": tool,
                "seconds": seconds,
                "times": times,
                "detail": detail,
            }
        )

    race_only = ("race",)
    s, t, native_json = timed(lambda: ours_native(data, race_only), repeats)
    add("race", "ours (from codes)", s, t, "accumulate + summarise + json.dumps")
    s, t, _ = timed(lambda: ours_from_strings(frame, race_only), repeats)
    add("race", "ours (from strings)", s, t, "pandas.factorize + the above")
    s, t, aeq = timed(lambda: aequitas_run(frame, ["race"], {"race": REFERENCE}), repeats)
    add("race", "aequitas", s, t, "Group.get_crosstabs + Bias.get_disparity_predefined_groups")
    fl = None
    if with_fairlearn:
        s, t, fl = timed(lambda: fairlearn_run(frame), fairlearn_repeats)
        add(
            "race",
            "fairlearn",
            s,
            t,
            f"MetricFrame(8 metrics) + difference + ratio, median of {fairlearn_repeats}",
        )
    out[0]["max_abs_diff_vs_references"] = _check_agreement(native_json, aeq, fl)

    # Informational: race, sex and race x sex (17 groups). Aequitas needs the intersection
    # as a column of its own, built outside the timed region.
    both = ("race", "sex")
    s, t, _ = timed(lambda: ours_native(data, both), repeats)
    add("race, sex, race x sex", "ours (from codes)", s, t, "17 groups")
    s, t, _ = timed(lambda: ours_native(data, both, score=True), repeats)
    add("race, sex, race x sex", "ours (from codes) + ROC AUC", s, t, "with score histograms")
    frame["race_sex"] = frame["race"] + " x " + frame["sex"]
    refs = {"race": REFERENCE, "sex": "M", "race_sex": f"{REFERENCE} x M"}
    s, t, _ = timed(lambda: aequitas_run(frame, ["race", "sex", "race_sex"], refs), repeats)
    add("race, sex, race x sex", "aequitas", s, t, "intersection column prebuilt (untimed)")
    return out
