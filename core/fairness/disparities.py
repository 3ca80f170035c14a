"""Disparities between groups (fairlearn's difference and ratio, equalized odds),
against a reference group (disparate impact, the four-fifths rule), and the breaches of
a policy's thresholds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# between-group disparity name -> the rate it compares (fairlearn's definitions)
DISPARITIES = {
    "demographic_parity": "selection_rate",
    "equal_opportunity": "tpr",
    "predictive_parity": "precision",
    "false_positive_rate_parity": "fpr",
}
# policy parameter -> (kind, disparity); other parameters are reported as ignored
THRESHOLDS = {
    "disparate_impact_min": ("min_ratio", "disparate_impact"),
    "equalized_odds_max_diff": ("max_diff", "equalized_odds"),
    "demographic_parity_max_diff": ("max_diff", "demographic_parity"),
    "equal_opportunity_max_diff": ("max_diff", "equal_opportunity"),
    "predictive_parity_max_diff": ("max_diff", "predictive_parity"),
}
FOUR_FIFTHS = 0.8


def _between(groups: list[dict], metric: str, min_group_size: int) -> dict:
    vals = [(g["metrics"][metric]["value"], g["label"]) for g in groups]
    defined = [(v, lab) for v, lab in vals if v is not None]
    out = {
        "metric": metric,
        "difference": None,
        "ratio": None,
        "min_group": None,
        "max_group": None,
        "undefined_groups": [lab for v, lab in vals if v is None],
        "reason": None,
    }
    if len(defined) < 2:
        out["reason"] = (
            f"fewer than two groups of at least {min_group_size} rows with a defined {metric}"
        )
        return out
    low = min(defined, key=lambda t: t[0])
    high = max(defined, key=lambda t: t[0])
    out.update(difference=high[0] - low[0], min_group=low[1], max_group=high[1])
    if high[0] > 0:
        out["ratio"] = low[0] / high[0]
    else:
        out["reason"] = f"every compared group has a {metric} of 0 (ratio undefined)"
    return out


def _equalized_odds(tpr: dict, fpr: dict) -> dict:
    out = {"difference": None, "ratio": None, "driver": None, "groups": None, "reason": None}
    if tpr["difference"] is None or fpr["difference"] is None:
        out["reason"] = "needs both the TPR and the FPR disparities: " + "; ".join(
            d["reason"] for d in (tpr, fpr) if d["reason"]
        )
        return out
    driver = tpr if tpr["difference"] >= fpr["difference"] else fpr
    out.update(
        difference=driver["difference"],
        driver=driver["metric"],
        groups=[driver["min_group"], driver["max_group"]],
    )
    if tpr["ratio"] is not None and fpr["ratio"] is not None:
        out["ratio"] = min(tpr["ratio"], fpr["ratio"])
    else:
        out["reason"] = "ratio undefined: a TPR or FPR is 0 in every compared group"
    return out


def _pick_reference(groups, compared, wanted, name, min_group_size) -> tuple[dict | None, dict]:
    if wanted not in (None, "best"):
        found = next((g for g in groups if g["label"] == wanted), None)
        if found is not None and not found["small_group"]:
            return found, {"group": found["label"], "rule": "named", "reason": None}
        if found is not None:
            reason = f"the reference group {wanted!r} has fewer than {min_group_size} rows"
            return None, {"group": None, "rule": "named", "reason": reason}
    candidates = [g for g in compared if g["metrics"]["selection_rate"]["value"] is not None]
    note = None
    if wanted not in (None, "best"):
        note = f"{wanted!r} is not a group of {name}; the highest selection rate is used"
    if not candidates:
        why = f"no group of at least {min_group_size} rows"
        return None, {"group": None, "rule": "best", "reason": why}
    best = max(candidates, key=lambda g: g["metrics"]["selection_rate"]["value"])
    return best, {"group": best["label"], "rule": "best", "reason": note}


def _against(group: dict, ref: dict) -> dict:
    out: dict[str, Any] = {"group": group["label"], "is_reference": group is ref}
    for name in ("selection_rate", "tpr", "fpr", "fnr", "precision", "accuracy"):
        g, r = group["metrics"][name]["value"], ref["metrics"][name]["value"]
        diff = g - r if g is not None and r is not None else None
        ratio = g / r if g is not None and r is not None and r > 0 else None
        out[name] = {"difference": diff, "ratio": ratio}
    di = out["selection_rate"]["ratio"]
    out["disparate_impact"] = di
    out["four_fifths_rule_breached"] = None if di is None else di < FOUR_FIFTHS
    return out


def _parse_thresholds(thresholds: Mapping[str, Any] | None) -> tuple[dict, list[str]]:
    used, ignored = {}, []
    for key, value in (thresholds or {}).items():
        if key not in THRESHOLDS:
            ignored.append(key)
        elif value is None:
            continue
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"threshold {key} must be a number >= 0, got {value!r}")
        else:
            used[key] = float(value)
    return used, sorted(ignored)


def _breaches(block: dict, used: dict) -> list[dict]:
    out = []
    where = {"attribute": block["name"], "columns": block["columns"]}
    where["intersection"] = block["intersection"]
    for param, limit in used.items():
        kind, metric = THRESHOLDS[param]
        if kind == "min_ratio":
            ref = block["reference"]["group"]
            for row in block["against_reference"]:
                di = row["disparate_impact"]
                if row["is_reference"] or di is None or not di < limit:
                    continue
                msg = (
                    f"Disparate impact of {row['group']!r} against {ref!r} on {block['name']}"
                    f" is {di:.3f}, below the policy minimum {limit:g}."
                )
                groups = [row["group"], ref]
                out.append(
                    {
                        **where,
                        "metric": metric,
                        "parameter": param,
                        "groups": groups,
                        "value": di,
                        "threshold": limit,
                        "message": msg,
                    }
                )
        else:
            d = block["between_groups"][metric]
            value = d["difference"]
            if value is None or not value > limit:
                continue
            groups = d["groups"] if metric == "equalized_odds" else [d["min_group"], d["max_group"]]
            label = metric.replace("_", " ")
            msg = (
                f"The {label} difference on {block['name']} is {value:.3f} (between "
                f"{groups[0]!r} and {groups[1]!r}), above the policy maximum {limit:g}."
            )
            out.append(
                {
                    **where,
                    "metric": metric,
                    "parameter": param,
                    "groups": groups,
                    "value": value,
                    "threshold": limit,
                    "message": msg,
                }
            )
    return out
